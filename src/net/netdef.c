#include "net/netdef.h"  /* placeholder: being written */
int net_placeholder_netdef;
