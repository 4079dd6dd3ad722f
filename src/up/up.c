/* up.c — the pipeline supervisor (see up.h). */
#include "up/up.h"

const brook_cfg_key up_config_keys[] = {
	{NULL, 0, NULL, NULL, NULL},
};
