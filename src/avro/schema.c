/* schema.c — being written (helper avro). */
typedef int avro_schema_placeholder;
