#include "net/lease.h"  /* placeholder: being written */
int net_placeholder_lease;
