#include "net/dnsmasq.h"  /* placeholder: being written */
int net_placeholder_dnsmasq;
