/*
 * ACPI fixed hardware: the PM1 event and control registers and the PM timer.
 *
 * This is how the guest powers itself off (writing SLP_TYP 5 with SLP_EN to
 * PM1 control, the \_S5 sleep type our DSDT declares) and how the host asks
 * it to shut down (the fixed-feature power button sets PWRBTN_STS and raises
 * the SCI). One port range holds the three blocks at fixed offsets; the ACPI
 * builder advertises them in the FADT. ACPI is always enabled (FADT SMI_CMD
 * is 0), so SCI_EN reads as set.
 */
#ifndef CORRAL_DEVICES_ACPI_PM_H
#define CORRAL_DEVICES_ACPI_PM_H

#include "devices/device.h"

#define ACPI_PM_PORT_LEN     12
#define ACPI_PM1_EVT_OFFSET  0   /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define ACPI_PM1_CNT_OFFSET  4   /* PM1_CNT (2 bytes) */
#define ACPI_PM_TMR_OFFSET   8   /* PM_TMR (4 bytes, 24 bits used) */

#define ACPI_SLP_TYP_S5      5   /* must match the DSDT's \_S5 package */

struct acpi_pm;

/* `poweroff` is called (from a vCPU thread) when the guest enters S5. */
struct acpi_pm *acpi_pm_create(const struct irq_line *sci,
			       void (*poweroff)(void *ctx), void *ctx);
void acpi_pm_destroy(struct acpi_pm *pm);

/* Presses the power button: the guest sees a fixed-feature power button event. */
void acpi_pm_press_power_button(struct acpi_pm *pm);

extern const struct io_ops acpi_pm_io_ops;

#endif
