#!/bin/sh
# test_acpi_iasl.sh DUMP_TOOL
#
# Checks corral's ACPI tables with Intel's ACPICA tools (Debian package
# acpica-tools), the reference implementation Linux's ACPI code is taken
# from. For 1, 64 and 255 vCPUs, DUMP_TOOL (acpi_dump) writes the tables to
# files, then:
#  - `iasl -d` disassembles each one without an error or warning (a bad
#    checksum, for one, is reported as "Firmware Warning");
#  - the disassembled data tables compile back with `iasl` to the same bytes
#    after the 36-byte header (iasl puts its own creator id and revision
#    there), so iasl read every field as we meant it; the disassembled DSDT
#    compiles cleanly (not byte for byte: iasl drops the redundant root
#    prefix in \_S5_ and \_SB_, and writes a zero End Tag checksum where we
#    write the real one, which ACPI also allows);
#  - the DSDT mentions _S5, QEMU0001, PNP0501, PNP0B00 and the PCI host
#    bridge PNP0A03 with its bus, I/O and memory windows, and the MADT
#    lists one Local APIC per vCPU, one I/O APIC, two overrides, one NMI;
#  - `acpiexec` loads FADT, FACS, DSDT and MADT into the ACPICA core (the
#    FADT checks Linux runs at boot print "Firmware Warning" there) and
#    evaluates \_S5 and the pvpanic _STA.
# The RSDP is left to test_acpi: iasl 20200925 cannot read a stand-alone
# RSDP file ("RSD PTR " is not a valid table signature to its file loader,
# which says "Loading an RSDP is not supported").
#
# Output is TAP; the exit status is 1 if any check failed.

set -u

dump_tool=${1:?usage: test_acpi_iasl.sh DUMP_TOOL}
count=0
failed=0

for tool in iasl acpiexec; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool not found (Debian package acpica-tools)"
		exit 0
	fi
done

work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM

# report NAME LOG COMMAND...: one TAP line; the log follows a failure.
report() {
	name=$1 log=$2
	shift 2
	count=$((count + 1))
	if "$@"; then
		echo "ok - $name"
	else
		failed=$((failed + 1))
		echo "not ok - $name"
		[ -f "$log" ] && sed 's/^/# /' "$log"
	fi
}

# dump_tables NCPUS DIR
dump_tables() {
	"$dump_tool" "$1" "$2" >"$2/dump.log" 2>&1
}

no_problems() {
	! grep -E 'Error|Warning|Exception' "$1" >/dev/null
}

# disassemble DIR TABLE: iasl -d exits 0, complains of nothing, writes .dsl.
disassemble() {
	(cd "$1" && iasl -d "$2.dat") >"$1/$2.dis.log" 2>&1 &&
		no_problems "$1/$2.dis.log" && [ -s "$1/$2.dsl" ]
}

# compiles DIR TABLE: the disassembly compiles, in DIR/rt, with no error or
# warning (iasl names a data table's output after its input, not after -p).
compiles() {
	mkdir -p "$1/rt" && cp "$1/$2.dsl" "$1/rt/" &&
		(cd "$1/rt" && iasl "$2.dsl") >"$1/$2.rt.log" 2>&1 &&
		grep -q ' 0 Errors, 0 Warnings' "$1/$2.rt.log"
}

# round_trips DIR TABLE: ...and gives back the bytes we wrote.
round_trips() {
	compiles "$1" "$2" &&
		tail -c +37 "$1/$2.dat" >"$1/rt/$2.body" &&
		tail -c +37 "$1/rt/$2.aml" >"$1/rt/$2.rt.body" &&
		cmp "$1/rt/$2.body" "$1/rt/$2.rt.body" >>"$1/$2.rt.log" 2>&1
}

dsdt_describes_machine() {
	for word in '_S5' '"QEMU0001"' 'EisaId ("PNP0501")' 'EisaId ("PNP0B00")' \
		'EisaId ("PNP0A03")' 'WordBusNumber (ResourceProducer, MinFixed, MaxFixed' \
		'0x0CF8,             // Range Minimum' 'DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite' \
		'0xC0000000,' '0xFBFFFFFF,'; do
		if ! grep -qF "$word" "$1/dsdt.dsl"; then
			echo "no $word in the DSDT" >"$1/dsdt.words.log"
			return 1
		fi
	done
}

# subtables DIR TYPE: how many MADT subtables of that type iasl decoded.
subtables() {
	grep -c "Subtable Type : $2" "$1/apic.dsl"
}

madt_lists() {
	lapics=$(subtables "$1" '00 \[Processor Local APIC\]')
	ioapics=$(subtables "$1" '01 \[I/O APIC\]')
	overrides=$(subtables "$1" '02 \[Interrupt Source Override\]')
	nmis=$(subtables "$1" '04 \[Local APIC NMI\]')
	echo "Local APICs $lapics, I/O APICs $ioapics, overrides $overrides, NMIs $nmis" \
		>"$1/apic.count.log"
	[ "$lapics" -eq "$2" ] && [ "$ioapics" -eq 1 ] &&
		[ "$overrides" -eq 2 ] && [ "$nmis" -eq 1 ]
}

# acpiexec runs its own self-test of the ACPICA interfaces after loading.
# It writes ARB_DIS in PM2_CNT and installs handlers for GPEs 0-5, so on a
# machine without the (optional) PM2 and GPE blocks it reports
# "Unexpected AE_BAD_ADDRESS from AcpiWriteBitRegister (aetests-NNN)" and
# "Unexpected AE_BAD_PARAMETER from AcpiInstallGpeHandler (aetests-NNN)".
# Those lines describe its test harness, not our tables; drop only them.
acpica_loads() {
	(cd "$1" && acpiexec -b 'evaluate \_S5; evaluate \_SB.PEVT._STA' \
		facp.dat facs.dat dsdt.dat apic.dat </dev/null) >"$1/acpiexec.raw" 2>&1 || return 1
	grep -vE '^Unexpected AE_BAD_(ADDRESS|PARAMETER) from Acpi((Read|Write)BitRegister|[A-Za-z]*Gpe[A-Za-z]*) \(aetests-[0-9]+\)$' \
		"$1/acpiexec.raw" >"$1/acpiexec.log"
	no_problems "$1/acpiexec.log" &&
		[ "$(grep -c '\[Integer\] = 0000000000000005$' "$1/acpiexec.log")" -eq 2 ] &&
		grep -q '\[Integer\] = 000000000000000F$' "$1/acpiexec.log"
}

for ncpus in 1 64 255; do
	dir=$work/$ncpus
	mkdir -p "$dir"
	report "acpi_dump writes the tables ($ncpus cpus)" "$dir/dump.log" \
		dump_tables "$ncpus" "$dir"
	for table in dsdt facp facs apic xsdt; do
		report "iasl -d $table.dat is clean ($ncpus cpus)" "$dir/$table.dis.log" \
			disassemble "$dir" "$table"
	done
	for table in facp facs apic xsdt; do
		report "$table disassembly compiles back to the same bytes ($ncpus cpus)" \
			"$dir/$table.rt.log" round_trips "$dir" "$table"
	done
	report "dsdt disassembly compiles cleanly ($ncpus cpus)" "$dir/dsdt.rt.log" \
		compiles "$dir" dsdt
	report "dsdt has _S5, QEMU0001, PNP0501, PNP0B00, PNP0A03 windows ($ncpus cpus)" "$dir/dsdt.words.log" \
		dsdt_describes_machine "$dir"
	report "madt lists $ncpus local APICs, the I/O APIC, overrides, NMI" "$dir/apic.count.log" \
		madt_lists "$dir" "$ncpus"
	report "acpiexec loads the tables and evaluates _S5, _STA ($ncpus cpus)" \
		"$dir/acpiexec.log" acpica_loads "$dir"
done

echo "1..$count"
[ "$failed" -eq 0 ]
