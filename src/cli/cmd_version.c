/* brook version */
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <yaml.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const brook_cli_spec spec = {
	.name = "version",
	.usage = "",
	.summary = "Print brook's version and the versions of the libraries it runs on.",
	.max_args = 0,
};

int cmd_version(int argc, char **argv)
{
	brook_cli cli;
	int rc = brook_cli_parse(&cli, &spec, argc, argv);
	if (rc == BROOK_CLI_RUN) {
		printf("brook %s\n", BROOK_VERSION);
		printf("  libcurl %s, libmicrohttpd %s, jansson %s, libyaml %s, %s\n",
		       curl_version_info(CURLVERSION_NOW)->version, MHD_get_version(),
		       JANSSON_VERSION, yaml_get_version_string(),
		       OpenSSL_version(OPENSSL_VERSION));
	}
	brook_cli_release(&cli);
	return brook_cli_exit_code(rc);
}
