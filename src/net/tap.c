#include "net/tap.h"  /* placeholder: being written */
int net_placeholder_tap;
