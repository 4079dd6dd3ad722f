/* log_memory.c — being written (helper reg). */
typedef int reg_log_memory_placeholder;
