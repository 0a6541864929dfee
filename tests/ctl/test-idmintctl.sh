#!/bin/sh
# test-idmintctl.sh: every idmintctl command and its errors, through the
# real binary: exit status, stdout, stderr, --json through python3's
# json.tool, and that no plain token is anywhere in the store directory.
#
# IDMINTCTL or IDMINTCTL_BIN (as scripts/test sets it) names the binary;
# the default is src/idmintctl in this tree.
# Prints "N passed, N failed"; exits non-zero if anything failed.

here=$(cd "$(dirname "$0")" && pwd)
C=${IDMINTCTL:-${IDMINTCTL_BIN:-$here/../../src/idmintctl}}
if [ ! -x "$C" ]; then
	echo "test-idmintctl.sh: no idmintctl binary at $C (set IDMINTCTL)" >&2
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/idmintctl-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
D=$tmp/db
unset IDMINT_DB
pass=0
fail=0
tokens=

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# run ARGS...: $out, $err and $rc of one idmintctl call on the test store
run() {
	out=$("$C" -d "$D" "$@" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
}

# t_rc DESC N
t_rc() {
	if [ "$rc" -eq "$2" ]; then ok; else bad "$1: exit $rc, wanted $2 (stderr: $err)"; fi
}
# t_err DESC TEXT: stderr is exactly TEXT
t_err() {
	if [ "$err" = "$2" ]; then ok; else bad "$1: stderr [$err], wanted [$2]"; fi
}
# t_out DESC TEXT: stdout is exactly TEXT
t_out() {
	if [ "$out" = "$2" ]; then ok; else bad "$1: stdout [$out], wanted [$2]"; fi
}
# t_has DESC PATTERN: stdout has a line matching the extended regex
t_has() {
	if printf '%s\n' "$out" | grep -Eq -- "$2"; then ok; else bad "$1: stdout lacks /$2/: [$out]"; fi
}
# t_errhas DESC PATTERN
t_errhas() {
	if printf '%s\n' "$err" | grep -Eq -- "$2"; then ok; else bad "$1: stderr lacks /$2/: [$err]"; fi
}
# t_json DESC [PYTHON-EXPR over j]: stdout parses, and the expression holds
t_json() {
	if printf '%s' "$out" | python3 -m json.tool >/dev/null 2>&1; then ok; else bad "$1: not JSON: [$out]"; return; fi
	[ -z "$2" ] && return
	if printf '%s' "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($2) else 1)"; then ok; else bad "$1: JSON fails [$2]: $out"; fi
}
# t_token DESC: stdout is one token, alone; remember it
t_token() {
	if printf '%s' "$out" | grep -Eqx 'idm_[A-Za-z0-9_-]{43}' && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ]; then
		ok; tokens="$tokens $out"
	else
		bad "$1: not a token alone: [$out]"
	fi
}

# ---- command line ----
out=$("$C" 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
t_rc "no command" 1; t_errhas "no command: usage" '^usage: idmintctl'
out=$("$C" -h 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
t_rc "-h" 0; t_has "-h: usage" '^usage: idmintctl'; t_has "-h lists stats" '^  stats'
out=$("$C" --version 2>"$tmp/err"); rc=$?
t_rc "--version" 0; t_has "--version" '^idmintctl [0-9]'
run frob
t_rc "unknown command" 1; t_err "unknown command" 'idmintctl: unknown command "frob" (idmintctl -h lists them)'
run --frob list
t_rc "unknown option" 1; t_err "unknown option" 'idmintctl: unknown option --frob (idmintctl -h lists them)'
run add
t_rc "add without name" 1; t_err "add without name" 'idmintctl: add wants a NAME (idmintctl -h)'
run add a b
t_rc "add two names" 1; t_err "add two names" 'idmintctl: too many arguments for add (idmintctl -h)'
run list --label x
t_rc "option of another command" 1; t_err "option of another command" 'idmintctl: --label is not an option of list'
run add bob --label
t_rc "option without value" 1; t_err "option without value" 'idmintctl: --label wants a value'
out=$("$C" -d /nonexistent/a/b list 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
t_rc "bad store dir" 1; t_errhas "bad store dir" '^idmintctl: cannot create the store directory /nonexistent/a/b: '

# ---- add ----
run add bob
t_rc "add bob" 0; t_token "add bob"; t_err "add bob: quiet" ''
bob1=$out
if [ "$(stat -c %a "$D")" = 700 ]; then ok; else bad "store dir mode $(stat -c %a "$D")"; fi
for f in "$D"/data.mdb "$D"/lock.mdb; do
	if [ "$(stat -c %a "$f")" = 600 ]; then ok; else bad "$f mode $(stat -c %a "$f")"; fi
done
run add bob
t_rc "add duplicate" 1; t_err "add duplicate" 'idmintctl: a key named "bob" already exists'; t_out "add duplicate: no token" ''
run add BoB
t_rc "add duplicate, other case" 1; t_err "add duplicate, other case" 'idmintctl: a key named "bob" already exists'
run add 'bo!b'
t_rc "add bad char" 1; t_err "add bad char" "idmintctl: invalid character '!' in username \"bo!b\""
run add 'b b'
t_err "add space" "idmintctl: invalid character ' ' in username \"b b\""
run add ''
t_rc "add empty name" 1; t_err "add empty name" 'idmintctl: the username is empty'
long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
run add "$long"
t_rc "add 65 chars" 1; t_errhas "add 65 chars" 'is longer than 64 characters$'
run add "${long#a}"
t_rc "add 64 chars" 0; t_token "add 64 chars"
run add alice --label "Alice's app ☕" --plan free
t_rc "add with plan" 0; t_token "add with plan"
run add carol --plan gold
t_rc "add unknown plan" 1; t_err "add unknown plan" 'idmintctl: unknown plan "gold" (free, starter, pro, mega, unlimited)'
run available carol
t_rc "refused add left nothing" 0
run add carol --rate 5
t_rc "rate without quota" 1; t_err "rate without quota" 'idmintctl: --rate and --quota go together: a custom plan needs both (0 means no limit)'
run add carol --plan free --rate 5 --quota 1
t_rc "plan and rate" 1; t_err "plan and rate" 'idmintctl: give a plan name or --rate and --quota, not both'
run add carol --rate abc --quota 1
t_rc "bad rate" 1; t_errhas "bad rate" '^idmintctl: --rate wants a whole number'
run add carol --rate 1 --quota -5
t_rc "bad quota" 1; t_errhas "bad quota" '^idmintctl: --quota wants a whole number'
run add carol --label "$(printf 'a\tb')"
t_rc "label with tab" 1; t_errhas "label with tab" 'control character'
run add carol --label "$(printf 'caf\351')"
t_rc "label not UTF-8" 1; t_errhas "label not UTF-8" 'not valid UTF-8'
run add carol --rate=5 --quota=100 --label=Carol
t_rc "add custom" 0; t_token "add custom"
run --json add dave --plan mega
t_rc "add --json" 0; t_json "add --json" 'j["name"]=="dave" and j["token"].startswith("idm_") and len(j["token"])==47'
tokens="$tokens $(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
run add -- -eve
t_rc "add after --" 0; t_token "add after --"

# ---- list ----
run list
t_rc "list" 0
t_has "list header" '^NAME +PLAN +RATE +QUOTA +STATUS +CREATED +EXPIRES +LABEL$'
t_has "list bob" '^bob +unlimited +- +- +active +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +never'
t_has "list alice" "^alice +free +2/s +1540 +active .*Alice's app ☕\$"
t_has "list carol" '^carol +custom +5/s +100 +active .* Carol$'
if [ "$(printf '%s\n' "$out" | wc -l)" -eq 7 ]; then ok; else bad "list: $(printf '%s\n' "$out" | wc -l) lines, wanted 7"; fi
run --json list
t_rc "list --json" 0
t_json "list --json" '[k["name"] for k in j]==["-eve","aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","alice","bob","carol","dave"] and j[2]["rate"]==2 and j[2]["quota"]==1540 and j[3]["rotated"] is None and j[3]["expires"] is None'
out=$("$C" -d "$D" --json list 2>"$tmp/err" >/dev/full); rc=$?; err=$(cat "$tmp/err")
t_rc "output to a full disk" 1; t_err "output to a full disk" 'idmintctl: cannot write the output'

out=$("$C" -d "$D" add frank 2>"$tmp/err" >/dev/full); rc=$?; err=$(cat "$tmp/err")
t_rc "token to a full disk" 1
t_err "token to a full disk" 'idmintctl: the token of "frank" could not be printed; the key exists: idmintctl rotate frank gives it a new one'
run remove frank
t_rc "remove frank" 0

# ---- show ----
run show Bob
t_rc "show" 0
t_has "show name" '^name: +bob$'; t_has "show plan" '^plan: +unlimited$'
t_has "show rate" '^rate: +unlimited$'; t_has "show quota" '^quota: +unlimited$'
t_has "show status" '^status: +active$'; t_has "show rotated" '^rotated: +never$'
t_has "show month" '^this month: +0 calls \([0-9]{4}-[0-9]{2}\)$'; t_has "show remaining" '^remaining: +unlimited$'
run show alice
t_has "show label" "^label: +Alice's app ☕\$"; t_has "show free rate" '^rate: +2 requests/s$'
t_has "show free quota" '^quota: +1540 calls/month$'; t_has "show free remaining" '^remaining: +1540 calls$'
run --json show alice
t_rc "show --json" 0; t_json "show --json" 'j["name"]=="alice" and j["plan"]=="free" and j["used"]==0 and j["remaining"]==1540 and j["status"]=="active"'
run show NoBody
t_rc "show unknown" 1; t_err "show unknown" 'idmintctl: no key named "nobody"'; t_out "show unknown: no output" ''
run show 'x/y'
t_rc "show bad name" 1; t_err "show bad name" "idmintctl: invalid character '/' in username \"x/y\""

# ---- rotate ----
run rotate bob
t_rc "rotate" 0; t_token "rotate"
if [ "$out" != "$bob1" ]; then ok; else bad "rotate gave the same token"; fi
run show bob
if printf '%s\n' "$out" | grep -Eq '^rotated: +[0-9]{4}-'; then ok; else bad "rotate: rotated time not set"; fi
run --json rotate bob
t_json "rotate --json" 'j["name"]=="bob" and len(j["token"])==47'
tokens="$tokens $(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
run rotate nobody
t_rc "rotate unknown" 1; t_err "rotate unknown" 'idmintctl: no key named "nobody"'; t_out "rotate unknown: no token" ''

# ---- suspend, resume ----
run suspend bob
t_rc "suspend" 0; t_out "suspend: quiet" ''
run show bob
t_has "suspended" '^status: +suspended$'
run suspend bob
t_rc "suspend twice" 0
run resume bob
t_rc "resume" 0
run show bob
t_has "resumed" '^status: +active$'
run suspend nobody
t_rc "suspend unknown" 1; t_err "suspend unknown" 'idmintctl: no key named "nobody"'
run resume nobody
t_rc "resume unknown" 1; t_err "resume unknown" 'idmintctl: no key named "nobody"'

# ---- plan ----
run plan bob pro
t_rc "plan pro" 0
run show bob
t_has "plan pro: name" '^plan: +pro$'; t_has "plan pro: rate" '^rate: +20 requests/s$'; t_has "plan pro: quota" '^quota: +186000 calls/month$'
run plan bob --rate 3 --quota 9
t_rc "plan custom" 0
run --json show bob
t_json "plan custom" 'j["plan"]=="custom" and j["rate"]==3 and j["quota"]==9'
run plan bob --rate 0 --quota 0
run --json show bob
t_json "plan custom unlimited" 'j["plan"]=="custom" and j["rate"]==0 and j["quota"]==0 and j["remaining"] is None'
run plan bob gold
t_rc "plan unknown" 1; t_err "plan unknown" 'idmintctl: unknown plan "gold" (free, starter, pro, mega, unlimited)'
run plan bob
t_rc "plan missing" 1; t_err "plan missing" 'idmintctl: plan wants a plan name (free, starter, pro, mega, unlimited) or --rate N --quota N'
run plan bob pro --rate 1 --quota 1
t_rc "plan both" 1; t_err "plan both" 'idmintctl: give a plan name or --rate and --quota, not both'
run plan bob --quota 1
t_rc "plan quota only" 1; t_errhas "plan quota only" 'go together'
run plan nobody free
t_rc "plan unknown key" 1; t_err "plan unknown key" 'idmintctl: no key named "nobody"'
run plan bob free --label x
t_rc "plan --label" 1; t_err "plan --label" 'idmintctl: --label is not an option of plan'

# ---- available ----
run available zed
t_rc "available free" 0; t_out "available: quiet" ''
run available BOB
t_rc "available taken" 1; t_err "available taken: quiet" ''
run available 'z!'
t_rc "available invalid" 2; t_err "available invalid" "idmintctl: invalid character '!' in username \"z!\""
run available
t_rc "available no name" 2
run --json available bob
t_rc "available --json taken" 1; t_json "available --json" 'j=={"name":"bob","available":False}'
run --json available zed
t_json "available --json free" 'j["available"] is True'
out=$("$C" -d /nonexistent/a/b available x 2>"$tmp/err"); rc=$?
t_rc "available store error" 2

# ---- usage, stats ----
run usage bob
t_rc "usage" 0; t_has "usage header" '^TYPE +[0-9]{4}-[0-9]{2} +ALL TIME$'; t_has "usage total" '^total +0 +0$'
run --json usage bob
t_json "usage --json" 'j["name"]=="bob" and j["month_total"]==0 and j["all_time"]==0 and j["types"]==[] and j["removed"] is False'
run usage nobody
t_rc "usage unknown" 1; t_err "usage unknown" 'idmintctl: no key named "nobody"'
run stats
t_rc "stats" 0; t_has "stats keys" '^keys: +6 \(6 active, 0 suspended\)$'; t_has "stats calls" '^calls: +0 in [0-9]{4}-[0-9]{2}, 0 all time$'
run suspend carol
run --json stats
t_json "stats --json" 'j["keys"]==6 and j["active"]==5 and j["suspended"]==1 and j["month_total"]==0 and j["top"]==[]'

# ---- remove ----
run remove bob
t_rc "remove" 0; t_out "remove: quiet" ''
run show bob
t_rc "removed" 1; t_err "removed" 'idmintctl: no key named "bob"'
run remove bob
t_rc "remove twice" 1; t_err "remove twice" 'idmintctl: no key named "bob"'
run available bob
t_rc "removed name is free" 0
run add bob
t_rc "re-add" 0; t_token "re-add"

# ---- the store dir from the environment ----
out=$(IDMINT_DB=$D "$C" available alice 2>"$tmp/err"); rc=$?
t_rc "IDMINT_DB" 1
out=$("$C" --db="$D" available alice 2>"$tmp/err"); rc=$?
t_rc "--db=" 1
out=$("$C" "-d$D" available alice 2>"$tmp/err"); rc=$?
t_rc "-dDIR" 1

# ---- the store dir from idmint's configuration file ----
printf 'db = %s\n' "$D" > "$tmp/conf"
out=$(IDMINT_CONF="$tmp/conf" "$C" available alice 2>"$tmp/err"); rc=$?
t_rc "db from IDMINT_CONF's file" 1
printf 'db = %s/elsewhere\n' "$tmp" > "$tmp/conf"
out=$(IDMINT_CONF="$tmp/conf" IDMINT_DB="$D" "$C" available alice 2>"$tmp/err"); rc=$?
t_rc "IDMINT_DB over the file" 1
out=$(IDMINT_CONF="$tmp/conf" "$C" -d "$D" available alice 2>"$tmp/err"); rc=$?
t_rc "-d over the file" 1
printf 'db = %s\nbogus = 1\n' "$D" > "$tmp/conf"
out=$(IDMINT_CONF="$tmp/conf" "$C" list 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
t_rc "bad configuration file" 1
t_errhas "bad configuration file" "$tmp/conf:2: unknown setting \"bogus\""

# ---- keys that expire ----
E="$tmp/exp"
runE() { D="$E" run "$@"; }
runE add soon --expires 30d
t_rc "add --expires span" 0; t_token "add --expires span"
runE add later --expires 2099-12-31
t_rc "add --expires date" 0; t_token "add --expires date"
runE add noon --expires 2099-06-01T12:00:00Z
t_rc "add --expires date and time" 0
runE add forever --expires never
t_rc "add --expires never" 0
runE add past --expires 2020-01-01
t_rc "add --expires in the past" 1; t_err "add --expires in the past" 'idmintctl: --expires 2020-01-01 is in the past (2020-01-01T00:00:00Z)'
runE add feb --expires 2099-02-29
t_rc "add --expires no such day" 1; t_err "add --expires no such day" 'idmintctl: --expires "2099-02-29" is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC), a span (30d, 12h, 2w, 1y), now or never'
for junk in 30 30x d -1d 2099-1-1 2099-01-01T25:00:00Z; do
	runE add junk --expires "$junk"
	t_rc "add --expires $junk" 1; t_errhas "add --expires $junk" "^idmintctl: --expires \"$junk\" is not a date"
done
runE available past
t_rc "a refused add left nothing" 0
runE list --expires 3d
t_rc "--expires is add's" 1; t_err "--expires is add's" 'idmintctl: --expires is not an option of list'
runE show soon
t_has "show expires" '^expires: +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'; t_has "show: still active" '^status: +active$'
runE --json show soon
t_json "--expires 30d is 30 days from now" 'abs(__import__("calendar").timegm(__import__("time").strptime(j["expires"], "%Y-%m-%dT%H:%M:%SZ")) - __import__("time").time() - 30 * 86400) < 60'
runE show forever
t_has "show never expires" '^expires: +never$'
runE list
t_has "list expires" '^later +unlimited +- +- +active +[0-9T:-]{19}Z +2099-12-31T00:00:00Z$'
t_has "list never" '^forever .* never *$'
runE list --expiring 31d
t_out "list --expiring: only soon" "$(printf '%s\n' "$out" | head -n 1)
$(printf '%s\n' "$out" | grep '^soon ')"
if [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ]; then ok; else bad "list --expiring 31d: [$out]"; fi
runE --json list --expiring 100y
t_json "list --expiring --json" '[k["name"] for k in j]==["later","noon","soon"] and j[0]["expires"]=="2099-12-31T00:00:00Z"'
runE list --expiring 1d
t_rc "list --expiring, none" 0; t_out "list --expiring, none" ''
runE list --expiring soon
t_rc "list --expiring junk" 1; t_errhas "list --expiring junk" '^idmintctl: --expiring "soon" is not a date .*, now$'
runE expire later 2098-01-01
t_rc "expire DATE" 0; t_out "expire: quiet" ''
runE --json show later
t_json "expire moved it" 'j["expires"]=="2098-01-01T00:00:00Z" and j["status"]=="active"'
runE expire soon now
t_rc "expire now" 0
runE --json show soon
t_json "expired" 'j["status"]=="expired"'
runE list
t_has "list expired" '^soon +unlimited +- +- +expired '
runE list --expiring 100y
if printf '%s\n' "$out" | grep -q '^soon '; then bad "an expired key is not expiring: [$out]"; else ok; fi
runE expire soon never
runE --json show soon
t_json "expire never" 'j["status"]=="active" and j["expires"] is None'
runE suspend later
runE --json show later
t_json "suspended wins over expiry" 'j["status"]=="suspended"'
runE expire soon
t_rc "expire without when" 1; t_err "expire without when" 'idmintctl: expire wants a DATE, a SPAN or never (idmintctl -h)'
runE expire nobody 30d
t_rc "expire unknown" 1; t_err "expire unknown" 'idmintctl: no key named "nobody"'
runE expire soon tomorrow
t_rc "expire junk" 1; t_errhas "expire junk" '^idmintctl: the expiry "tomorrow" is not a date'
out=$("$C" -h 2>&1)
t_has "-h: expire" '^  expire NAME DATE\|SPAN\|never$'

# ---- cluster mode, without a PostgreSQL (tests/http/suite_cluster.py has one) ----
run usage alice --by-node
t_rc "--by-node alone" 1; t_err "--by-node alone" 'idmintctl: --by-node needs the cluster setting (idmint.conf(5), or IDMINT_CLUSTER)'
run list --by-node
t_rc "--by-node on list" 1; t_err "--by-node on list" 'idmintctl: --by-node is not an option of list'
run cluster init
t_rc "cluster without the setting" 1; t_err "cluster without the setting" 'idmintctl: cluster commands need the cluster setting (idmint.conf(5), or IDMINT_CLUSTER)'
run cluster
t_rc "cluster alone" 1; t_err "cluster alone" 'idmintctl: cluster wants init, status or import (idmintctl -h)'
nopg="host=$tmp/nopg dbname=idmint user=idmint"
mkdir -p "$tmp/nopg"
out=$(IDMINT_CLUSTER="$nopg" "$C" -d "$D" cluster frob 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
t_rc "cluster frob" 1; t_err "cluster frob" 'idmintctl: unknown cluster command "frob" (init, status, import)'
for cmd in "add clusterkey" "cluster init" "usage alice" "list"; do
	# shellcheck disable=SC2086
	out=$(IDMINT_CLUSTER="$nopg" "$C" -d "$D" $cmd 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
	t_rc "cluster mode, no server: $cmd" 1
	t_errhas "cluster mode, no server: $cmd" "^idmintctl: PostgreSQL: connecting: .*$tmp/nopg/.s.PGSQL.5432"
	t_out "cluster mode, no server: $cmd: no output" ''
done
run available clusterkey
t_rc "cluster mode never writes the local store" 0
out=$(IDMINT_CLUSTER="$nopg" IDMINT_NODE_NAME='bad name' "$C" -d "$D" list 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
t_rc "bad node_name" 1; t_errhas "bad node_name" 'IDMINT_NODE_NAME: node_name: bad value'

# ---- root on a store owned by the workers' user works as that user ----
if [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1; then
	W="$tmp/wstore"
	mkdir -m 0700 "$W" && chown www-data:www-data "$W"
	chmod 755 "$tmp"
	out=$("$C" -d "$W" add webkey 2>"$tmp/err"); rc=$?; err=$(cat "$tmp/err")
	t_rc "root adds to a www-data store" 0
	owners=$(find "$W" -newer "$tmp/conf" -exec stat -c %U {} + | sort -u | tr '\n' ' ')
	if [ "$owners" = "www-data " ]; then ok; else bad "files made as root: owners [$owners]"; fi
fi

# ---- no plain token anywhere in the store ----
n=0
for t in $tokens; do
	n=$((n + 1))
	body=${t#idm_}
	if grep -rqaF -e "$t" -e "$body" "$D"; then bad "token $n found in the store"; else ok; fi
done
if [ "$n" -ge 9 ]; then ok; else bad "only $n tokens checked"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
