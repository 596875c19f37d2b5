#!/bin/sh
# corrald and corral with real guests: create -n starts nothing; a bad file
# is refused with FILE:LINE:COL and leaves nothing; create starts a domain
# that is listed (ID, Mem, VCPUs, state) and boots (its console log shows
# it); a second domain gets the next ID and a taken name is refused;
# domid, domname, uptime, vcpu-list and info describe them;
# shutdown -w ends in the guest's poweroff (on_poweroff=destroy: gone, files
# too); destroy by ID stops a VMM at once; corrald stops cleanly (SIGTERM).
set -eu
. "$TESTBED/lib.sh"

guest_initrd_ticker
corrald_start

corral_ok list
assert_eq "corral list of no domains" "Name ID Mem VCPUs State Time(s)" \
    "$(tr -s ' ' <"$WORK/corral.out")"

# ---- create -n: checks and prints, starts nothing ------------------------
domain_file web script 'on_poweroff = "destroy"'
corral_ok create -n "$DOMAIN_FILE" vcpus=2
grep -q '"name": "web"' "$WORK/corral.out" || fail "create -n: no name in its JSON"
grep -q '"vcpus": 2' "$WORK/corral.out" || fail "create -n: the override vcpus=2 is not in its JSON"
grep -q "\"kernel\": \"$GUEST_KERNEL\"" "$WORK/corral.out" || fail "create -n: no kernel in its JSON"
domain_info web
assert_eq "state of web after create -n" absent "$DOM_STATE"
[ -z "$(ls "$CORRALD_DIR/state/domains" 2>/dev/null)" ] || fail "create -n wrote a definition"
log "ok: create -n printed the domain and started nothing"

# ---- a bad file: every error, FILE:LINE:COL, status 1, nothing left ------
cat >"$WORK/bad.cfg" <<EOF
name = "bad"
kernel = "$GUEST_KERNEL"
memory = "512"
vcpus = 0
EOF
corral_run create "$WORK/bad.cfg"
assert_eq "status of create with a bad file" 1 "$CORRAL_STATUS"
grep -q "^$WORK/bad.cfg:3:10: error: " "$WORK/corral.err" ||
    fail "no '$WORK/bad.cfg:3:10: error:' for the quoted memory"
grep -q "^$WORK/bad.cfg:4:[0-9]*: error: " "$WORK/corral.err" ||
    fail "no error at line 4 for vcpus = 0 (corral goes on after the first error)"
domain_info bad
assert_eq "state of the bad domain" absent "$DOM_STATE"
[ ! -e "$CORRALD_DIR/state/domains/bad.cfg" ] || fail "the bad domain's definition was written"
[ ! -e "$CORRALD_DIR/run/domains/bad" ] || fail "the bad domain has a run directory"
log "ok: the bad file was refused with each error's place; nothing is left"

# A kernel that does not exist: an error naming it, nothing left.
domain_file ghost script 'kernel = "/nonexistent/vmlinuz"'
corral_run create "$DOMAIN_FILE"
assert_eq "status of create with a missing kernel" 1 "$CORRAL_STATUS"
grep -q "/nonexistent/vmlinuz" "$WORK/corral.err" || fail "the error does not name the missing kernel"
domain_info ghost
assert_eq "state of the domain without a kernel" absent "$DOM_STATE"

# ---- create: running, listed, booted -------------------------------------
domain_file web script 'on_poweroff = "destroy"'
corral_ok create "$DOMAIN_FILE"
[ ! -s "$WORK/corral.out" ] || fail "create printed something on success"
domain_info web
assert_eq "state of web" running "$DOM_STATE"
assert_eq "ID of the first domain" 1 "$DOM_ID"
assert_eq "memory of web (MiB)" 256 "$DOM_MEMORY"
assert_eq "vCPUs of web" 1 "$DOM_VCPUS"
WEB_PID=$DOM_PID
pid_alive "$WEB_PID" || fail "web's VMM (pid $WEB_PID) is not running"
assert_eq "web's VMM binary" "$(readlink -f "$CORRAL_VMM")" "$(readlink "/proc/$WEB_PID/exe")"
[ -f "$CORRALD_DIR/state/domains/web.cfg" ] || fail "no definition for web in the state directory"
corral_ok list
row=$(grep '^web ' "$WORK/corral.out" | tr -s ' ')
case $row in
    "web 1 256 1 running "*) log "ok: corral list: $row" ;;
    *) fail "corral list row of web: '$row'" ;;
esac

wait_domain_console web "@@ READY" 120
domain_console_has web "Linux version" || fail "web's console log does not show the kernel booting"
domain_console_has web "@@ BOOTED" || fail "web's console log does not show the guest's /init"
if domain_console_has web "@@ NO-POWER-BUTTON"; then fail "the guest found no ACPI power button"; fi
wait_domain_console web "@@ TICK 3 " 60
domain_info web
awk -v t="$DOM_TIME" 'BEGIN { exit !(t > 0) }' || fail "web has used no CPU time ('$DOM_TIME')"
log "ok: web booted; CPU time $DOM_TIME s"

# ---- a second domain: the next ID; a taken name is refused --------------
domain_file db script 'memory = 192' 'vcpus = 2'
corral_ok create "$DOMAIN_FILE"
domain_info db
assert_eq "ID of the second domain" 2 "$DOM_ID"
assert_eq "memory of db (MiB)" 192 "$DOM_MEMORY"
assert_eq "vCPUs of db" 2 "$DOM_VCPUS"
DB_PID=$DOM_PID
corral_run create "$DOMAIN_FILE"
assert_eq "status of a second create of db" 1 "$CORRAL_STATUS"
grep -q "exists" "$WORK/corral.err" || fail "the refusal does not say the name is taken"
domain_info db
assert_eq "db's VMM after the refused create" "$DB_PID" "$DOM_PID"
corral_ok list
[ "$(grep -cE '^(web|db) ' "$WORK/corral.out")" = 2 ] || fail "corral list does not show web and db"
wait_domain_console db "@@ TICK 3 " 120

# ---- domid, domname, uptime, vcpu-list, info -----------------------------
corral_ok domid db
assert_eq "corral domid db" 2 "$(cat "$WORK/corral.out")"
corral_ok domname 1
assert_eq "corral domname 1" web "$(cat "$WORK/corral.out")"
corral_run domname 7
assert_eq "status of domname of an unused ID" 1 "$CORRAL_STATUS"
corral_ok uptime
grep -qE '^web +1 +[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$' "$WORK/corral.out" || fail "corral uptime: no row for web"
grep -qE '^db +2 +[0-9][0-9]:[0-9][0-9]:[0-9][0-9]$' "$WORK/corral.out" || fail "corral uptime: no row for db"
corral_ok vcpu-list db
assert_eq "vCPU rows of db" 2 "$(grep -cE '^db +2 +[01] +[0-9]+ +(r--|-b-) ' "$WORK/corral.out")"
grep -qE '^db +2 +1 ' "$WORK/corral.out" || fail "corral vcpu-list: no vCPU 1 for db"
corral_ok info
grep -qE '^domains +: 2$' "$WORK/corral.out" || fail "corral info: not 2 domains"
grep -qE '^running +: 2$' "$WORK/corral.out" || fail "corral info: not 2 running"
grep -qE '^domain_memory +: 448$' "$WORK/corral.out" || fail "corral info: domain_memory is not 256 + 192"
log "ok: domid, domname, uptime, vcpu-list and info"

# ---- shutdown -w: the power button; the guest powers off; destroyed ----
corral_ok shutdown -w web
domain_console_has web "@@ POWERBUTTON" || fail "web's guest did not see the power button"
domain_info web
assert_eq "web after shutdown -w (on_poweroff=destroy)" absent "$DOM_STATE"
if pid_alive "$WEB_PID"; then fail "web's VMM (pid $WEB_PID) still runs"; fi
[ ! -e "$CORRALD_DIR/state/domains/web.cfg" ] || fail "web's definition is still there"
[ ! -e "$CORRALD_DIR/run/domains/web" ] || fail "web's run directory is still there"
log "ok: web shut down and was forgotten"

# ---- destroy, by ID: the VMM stops at once --------------------------------
corral_run destroy 1
assert_eq "status of destroy of a gone ID" 1 "$CORRAL_STATUS"
corral_ok destroy 2
wait_domain_state db absent 30
if pid_alive "$DB_PID"; then fail "db's VMM (pid $DB_PID) still runs after destroy"; fi
if domain_console_has db "@@ POWERBUTTON"; then fail "destroy pressed db's power button instead of stopping it"; fi
corral_run destroy db
assert_eq "status of destroy of a gone domain" 1 "$CORRAL_STATUS"
corral_ok list
assert_eq "domains left" 0 "$(($(wc -l <"$WORK/corral.out") - 1))"
log "ok: db destroyed"

corrald_stop
