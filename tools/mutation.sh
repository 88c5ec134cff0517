#!/usr/bin/env bash
# Mutation testing of kfp_tune.core, the launchers and the stores, with mutmut (docs/testing.md).
#
#   tools/mutation.sh [core|launchers|stores]...    (no argument: all three, one after the other)
#   tools/mutation.sh --update [core|launchers|stores]...
#
# Each package is mutated in its own scratch copy of this working tree (src/, tests/, images/,
# manifests/, pyproject.toml) under $MUTATION_WORKDIR, so the repository never holds a mutant
# or a mutmut cache. The copy's setup.cfg is tools/mutation/<package>.cfg: which files are
# mutated and which tests judge them. At the end the score of each package is printed, and each
# copy keeps survivors.txt (the diff of every mutant no test killed) and mutmut's results, so
# `cd $MUTATION_WORKDIR/<package> && mutmut show <name>` still works.
#
# --update brings an earlier run's copy up to date with this working tree and finishes it: the
# copy's source files that differ are replaced (mutmut regenerates the mutants of the functions
# that changed and keeps every other verdict), its tests/ and setup.cfg are refreshed, then the
# survivors of before are re-checked against the tests as they are now (first: they are what
# new tests were written for, and a killed one is quick to tell), and then every mutant without
# a verdict is checked (changed functions, new files, and what an interrupted run did not
# reach). A killed mutant stays killed when tests are added, so this gives the score a full run
# would, in a fraction of the time; an update stopped part-way keeps what it checked. When
# setup.cfg's test selection changed, mutmut itself drops every verdict and the update is a
# full run.
#
# Slow (an hour or more per package on two cores) and not part of `make test` or CI.
#
# Settings (environment):
#   MUTATION_WORKDIR  where the copies go (default: ${TMPDIR:-/tmp}/kfp-tune-mutation)
#   MUTATION_JOBS     mutants tested at once (default: the number of CPUs)
#   VENV              the virtualenv with kfp-tune[test] and mutmut (default: .venv)
#   MUTMUT_VERSION    installed into $VENV when mutmut is missing (default: 3.8.1)
#   MUTATION_MODULES  only these modules of the package, by file name without .py, space-separated
#                     (e.g. "validation spec"): a run that fits the time at hand; the report then
#                     counts the other modules' mutants as unchecked. Default: every module.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKDIR=${MUTATION_WORKDIR:-${TMPDIR:-/tmp}/kfp-tune-mutation}
JOBS=${MUTATION_JOBS:-$(nproc 2>/dev/null || echo 2)}
VENV=$(cd "$ROOT" && cd "${VENV:-.venv}" && pwd)
MUTMUT_VERSION=${MUTMUT_VERSION:-3.8.1}

update=false
if [ "${1:-}" = "--update" ]; then
    update=true
    shift
fi
packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
    packages=(core launchers stores)
fi
for package in "${packages[@]}"; do
    if [ ! -f "$ROOT/tools/mutation/$package.cfg" ]; then
        echo "unknown package '$package': expected core, launchers or stores" >&2
        exit 2
    fi
done

if [ ! -x "$VENV/bin/mutmut" ]; then
    "$VENV/bin/python" -m pip install --quiet "mutmut==$MUTMUT_VERSION"
fi

case "$WORKDIR" in
    "$ROOT" | "$ROOT"/*) echo "MUTATION_WORKDIR must be outside the repository" >&2; exit 2 ;;
esac

copy_tree() {  # the tree as it is now, without caches or build output
    tar -C "$ROOT" --exclude=__pycache__ --exclude=.hypothesis --exclude=.pytest_cache --exclude='*.pyc' \
        -cf - "$@" | tar -C "$copy" -xf -
}

sync_source() {  # the copy's src/ as the tree's; only files that differ get a new time (mutmut's cue to regenerate)
    (cd "$ROOT" && find src -name '*.py' -not -path '*/__pycache__/*') | while read -r file; do
        if ! cmp -s "$ROOT/$file" "$copy/$file"; then
            mkdir -p "$(dirname "$copy/$file")"
            cp "$ROOT/$file" "$copy/$file"
            echo "   changed: $file"
        fi
    done
    (cd "$copy" && find src -name '*.py' -not -path '*/__pycache__/*') | while read -r file; do
        if [ ! -f "$ROOT/$file" ]; then
            rm "$copy/$file"
            echo "   removed: $file"
        fi
    done
}

verdicts() {  # the names of the copy's mutants whose verdict matches the pattern (in the chosen modules)
    (cd "$copy" && "$VENV/bin/mutmut" results --all true 2>/dev/null) | awk -F': ' -v pattern="^($1)$" '$NF ~ pattern {gsub(/^ +/, "", $1); print $1}' |
        if [ ${#modules[@]} -gt 0 ]; then grep -F -f <(printf '.%s.\n' "${modules[@]}"); else cat; fi
}

modules=()
for module in ${MUTATION_MODULES:-}; do
    modules+=("$module")
done

for package in "${packages[@]}"; do
    copy="$WORKDIR/$package"
    names=()
    if $update; then
        if [ ! -d "$copy/mutants" ]; then
            echo "no earlier run of $package in $copy: run tools/mutation.sh $package first" >&2
            exit 2
        fi
        echo "== $package: bringing $copy up to date"
        sync_source
        rm -rf "$copy/tests"
        copy_tree tests
        cp "$ROOT/tools/mutation/$package.cfg" "$copy/setup.cfg"  # which tests judge the package goes with the tests
        mapfile -t names < <(verdicts "survived|no tests|suspicious")
        echo "   ${#names[@]} earlier survivors to re-check, then the mutants without a verdict"
        if [ ${#names[@]} -gt 0 ]; then  # a name whose function changed is regenerated: it matches nothing, or a new mutant
            (cd "$copy" && "$VENV/bin/mutmut" run --max-children "$JOBS" "${names[@]}" >> mutmut-run.log 2>&1) || true
        fi
        names=()  # below: every mutant without a verdict
        if [ ${#modules[@]} -gt 0 ]; then  # by name: mutmut re-runs every mutant a name matches
            mapfile -t names < <(verdicts "not checked")
            if [ ${#names[@]} -eq 0 ]; then
                names=(none-left)
            fi
        fi
    else
        echo "== $package: mutating in $copy"
        rm -rf "$copy"
        mkdir -p "$copy"
        copy_tree src tests images manifests pyproject.toml  # the copy's tests import the mutants
        cp "$ROOT/tools/mutation/$package.cfg" "$copy/setup.cfg"
        cp "$ROOT/tools/mutation/fastest_first.py" "$copy/"
    fi
    if ! $update; then
        for module in "${modules[@]}"; do  # mutmut's names: kfp_tune.core.validation.x_check__mutmut_3
            names+=("kfp_tune.$package.$module.*")
        done
    fi
    started=$(date +%s)
    logged=$(if [ -f "$copy/mutmut-run.log" ]; then wc -c < "$copy/mutmut-run.log"; else echo 0; fi)  # this run's output starts after it
    # mutmut exits non-zero when mutants survive; the report below says how many.
    if [ "${names[*]}" != none-left ]; then
        (cd "$copy" && "$VENV/bin/mutmut" run --max-children "$JOBS" "${names[@]}" >> mutmut-run.log 2>&1) || true
    fi
    echo "   mutmut ran for $(( ($(date +%s) - started) / 60 )) min; its output is in $copy/mutmut-run.log"
    if tail -c +$((logged + 1)) "$copy/mutmut-run.log" | grep -q -e "failed to collect stats" -e "Failed to run clean test"; then
        echo "   the tests failed on the unmutated source, so no mutant was checked (the log shows which)." >&2
    fi
done

echo
cd "$WORKDIR"
"$VENV/bin/python" "$ROOT/tools/mutation/report.py" "${packages[@]}"
