#!/bin/sh
# Print the packages of sandbox/packages.txt for a language set, one a line.
#
#   sandbox/packages.sh [LANGUAGES] [packages.txt]
#
# LANGUAGES: "all" (default) or a comma-separated list of section names
# (python,cpp,...). The core (lines before the first [section]) is always
# printed. An unknown name is an error, so a typo cannot silently build an
# image without a language. Used by build-offline.sh and the Dockerfile.
set -eu
LANGS=${1:-all}
FILE=${2:-$(dirname "$0")/packages.txt}
exec awk -v want=",$LANGS," '
    # The core carries python (the runner) and bash (the shell): always there.
    BEGIN { known["python"] = 1; known["bash"] = 1 }
    { sub(/#.*/, ""); gsub(/[ \t\r]/, "") }
    $0 == "" { next }
    /^\[.*\]$/ {
        n = split(substr($0, 2, length($0) - 2), names, ",")
        on = (want == ",all,")
        for (i = 1; i <= n; i++) {
            known[names[i]] = 1
            if (index(want, "," names[i] ",")) on = 1
        }
        sect = 1
        next
    }
    !sect || on { print }
    END {
        if (want == ",all,") exit 0
        m = split(substr(want, 2, length(want) - 2), asked, ",")
        for (i = 1; i <= m; i++)
            if (!(asked[i] in known)) {
                print "packages.sh: unknown language " asked[i] > "/dev/stderr"
                exit 2
            }
    }
' "$FILE"
