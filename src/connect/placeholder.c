/* connect.c — placeholder until the connector lands. */
typedef int brook_connect_placeholder;
