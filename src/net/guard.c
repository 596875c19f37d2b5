#include "net/guard.h"  /* placeholder: being written */
int net_placeholder_guard;
