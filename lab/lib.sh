# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh: what the lab's bash scripts share, sourced (never run):
#   CACHE                 ${XDG_CACHE_HOME:-$HOME/.cache}/tcpconndiag, the
#                         one cache of kernels, debs, apt state and chroots
#   log MSG / die MSG     "PROG: MSG" / "PROG: error: MSG" on stderr (die
#                         exits 1); PROG is $TCD_PROG, default the script's
#                         name without .sh
#   need_tools CMD:PKG... install the packages of missing commands (root)
#   host_codename         the host's Debian suite (bookworm on Debian 12)
#   host_apt_sources      "URI SUITE" per enabled deb source of the host
#                         (deb822 .sources and one-line .list files)
#   find_mirrors          sets MIRROR (the host suite's URI) and SEC_MIRROR
#                         (the -security one) from those sources: the
#                         mirror is never hard-coded. Env overrides:
#                         TCPCONNDIAG_MIRROR, TCPCONNDIAG_SECURITY_MIRROR.
#   apt_priv TOOL ARGS... apt-get/apt-cache with the private state in
#                         $APT_DIR (own sources, lists, cache, empty status)
#   apt_priv_update SUITE...  $APT_DIR's sources.list for those suites from
#                         the host's mirrors, then apt-get update
# Before this file, each script had its own copy of these.

# shellcheck disable=SC2034 # for the scripts that source this
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tcpconndiag"
TCD_PROG="${TCD_PROG:-$(basename "$0" .sh)}"

log() { printf '%s: %s\n' "$TCD_PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$TCD_PROG" "$*" >&2; exit 1; }

# need_tools CMD:PKG...: CI machines start bare; install what is missing.
need_tools() {
	local t pkgs=()
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null 2>&1 || pkgs+=("${t#*:}")
	done
	[ ${#pkgs[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages (need root to install): ${pkgs[*]}"
	log "installing ${pkgs[*]}"
	apt-get update -qq || true
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
}

host_codename() {
	(. /etc/os-release && echo "${VERSION_CODENAME:-}")
}

# host_apt_sources: "URI SUITE" for every enabled deb source, trailing
# slashes of the URI removed.
host_apt_sources() {
	local f
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			awk '
			function flush() {
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) != "no" && uris != "") {
					split(uris, u); n = split(suites, s)
					for (i = 1; i <= n; i++) print u[1], s[i]
				}
				types = uris = suites = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			{ k = tolower($1); $1 = "" }
			k == "types:" { types = $0 }
			k == "uris:" { uris = $0 }
			k == "suites:" { suites = $0 }
			k == "enabled:" { enabled = $0; gsub(/[ \t]/, "", enabled) }
			END { flush() }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			# deb [options] URI SUITE COMPONENTS...
			sed -E 's/#.*//; s/\[[^]]*\]//' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }'
		done
	} | sed -E 's#/+ # #'
}

find_mirrors() {
	local codename srcs
	codename="$(host_codename)"
	srcs="$(host_apt_sources)"
	MIRROR="${TCPCONNDIAG_MIRROR:-$(awk -v c="$codename" '$2 == c { print $1; exit }' <<<"$srcs")}"
	SEC_MIRROR="${TCPCONNDIAG_SECURITY_MIRROR:-$(awk '$2 ~ /-security$/ { print $1; exit }' <<<"$srcs")}"
	[ -n "$MIRROR" ] || die "no Debian mirror for suite '$codename' in /etc/apt sources"
	if [ -z "$SEC_MIRROR" ]; then
		SEC_MIRROR="${MIRROR}-security"
		log "no -security source found; guessing $SEC_MIRROR"
	fi
}

# apt_priv TOOL ARGS...: TOOL with its own sources, lists, cache and an empty
# status file under $APT_DIR, so the host's installed packages answer
# nothing and the host's apt state is never touched.
apt_priv() {
	local tool="$1" a="$APT_DIR"
	shift
	[ -n "$a" ] || die "apt_priv: APT_DIR is not set"
	"$tool" -q -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$a/lists" -o Dir::State::status="$a/status" \
		-o Dir::Cache="$a/cache" -o Dir::Cache::Archives="$a/archives" \
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null \
		-o APT::Architecture=amd64 -o APT::Sandbox::User=root "$@"
}

# apt_priv_update SUITE...: point $APT_DIR at the host's mirrors for SUITEs
# (-security suites at the security mirror) and update its lists. A failed
# update carries on with lists already cached (CI has only the archive).
apt_priv_update() {
	local a="$APT_DIR" s uri
	find_mirrors
	mkdir -p "$a/lists/partial" "$a/cache" "$a/archives/partial"
	: >"$a/status"
	for s in "$@"; do
		case "$s" in *-security) uri="$SEC_MIRROR" ;; *) uri="$MIRROR" ;; esac
		echo "deb $uri $s main"
	done >"$a/sources.list"
	if ! apt_priv apt-get update >"$a/update.log" 2>&1 || grep -q '^[WE]:' "$a/update.log"; then
		cat "$a/update.log" >&2
		compgen -G "$a/lists/*Packages*" >/dev/null || die "apt-get update failed for $*"
		log "apt-get update had problems; continuing with the lists already cached"
	fi
}
