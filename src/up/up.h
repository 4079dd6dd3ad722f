/*
 * up.h — `brook up`: the supervisor that runs the whole pipeline. (Being written.)
 */
#ifndef BROOK_UP_UP_H
#define BROOK_UP_UP_H

#include "core/config.h"

extern const brook_cfg_key up_config_keys[];

#endif
