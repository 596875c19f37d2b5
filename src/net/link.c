#include "net/link.h"  /* placeholder: being written */
int net_placeholder_;
