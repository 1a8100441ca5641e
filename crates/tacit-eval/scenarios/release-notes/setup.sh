#!/usr/bin/env bash
# The "widget" library at 1.7.0, with an upstream that has one more change,
# a CHANGELOG.md whose "## Unreleased" section is ready to become 1.8.0, and
# the team's release scripts: publish.sh (tarball + sha256 into the shared
# drop folder, annotated tags only) and verify-drop.sh.
#
# DIR/origin.git  upstream      DIR/widget  the release manager's clone
# DIR/drop        the shared drop folder (holds 1.7.0 already)
# Nothing leaves DIR; no network. Usage: setup.sh DIR
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/drop"
work=$(mktemp -d "$dir/.work.XXXXXX")
g() { git -C "$work" "$@"; }
git init -q -b main "$work"
g config user.email maintainers@example.com
g config user.name "widget maintainers"
mkdir -p "$work/src/widget" "$work/scripts"
at() { GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" "${@:2}"; }

cat >"$work/README.md" <<'EOF'
# widget

Small terminal widgets for Python. Released every other Thursday; see
`scripts/publish.sh`.
EOF
cat >"$work/src/widget/__init__.py" <<'EOF'
__all__ = ["Widget"]


class Widget:
    def __init__(self, text):
        self.text = text

    def render(self):
        return f"[{self.text}]"
EOF

cat >"$work/scripts/publish.sh" <<'SH'
#!/usr/bin/env bash
# Publishes a release: a source tarball of TAG and its sha256 in the shared
# drop folder. Only annotated tags that are already on origin.
set -e
tag=${1:?usage: publish.sh TAG (e.g. v1.8.0)}
version=${tag#v}
root=$(cd "$(dirname "$0")/.." && pwd)
drop=${WIDGET_DROP:-$root/../drop}
fail() { echo "publish: $*" >&2; exit 1; }
cd "$root"
git rev-parse -q --verify "refs/tags/$tag" >/dev/null || fail "no tag $tag"
[ "$(git cat-file -t "$tag")" = tag ] || fail "$tag is a lightweight tag; releases need an annotated tag (git tag -a)"
git ls-remote --exit-code --tags origin "refs/tags/$tag" >/dev/null || fail "$tag is not on origin; push it first"
got=$(git show "$tag:VERSION")
[ "$got" = "$version" ] || fail "VERSION at $tag says $got, expected $version"
git show "$tag:CHANGELOG.md" | grep -q "^## $version " || fail "CHANGELOG.md at $tag has no '## $version' section"
[ -d "$drop" ] || fail "drop folder $drop is not mounted"
[ ! -e "$drop/widget-$version.tar.gz" ] || fail "$drop/widget-$version.tar.gz already exists; releases are never overwritten"
git archive --format=tar.gz --prefix="widget-$version/" -o "$drop/widget-$version.tar.gz" "$tag"
(cd "$drop" && sha256sum "widget-$version.tar.gz" >"widget-$version.tar.gz.sha256")
echo "publish: wrote drop/widget-$version.tar.gz ($(stat -c %s "$drop/widget-$version.tar.gz") bytes)"
echo "publish: sha256 $(cut -c1-16 "$drop/widget-$version.tar.gz.sha256")…"
SH
cat >"$work/scripts/verify-drop.sh" <<'SH'
#!/usr/bin/env bash
# Checks a published release in the drop folder: checksum, VERSION, changelog.
version=${1:?usage: verify-drop.sh VERSION}
root=$(cd "$(dirname "$0")/.." && pwd)
drop=${WIDGET_DROP:-$root/../drop}
fail() { echo "verify-drop: FAIL $*" >&2; exit 1; }
tarball="widget-$version.tar.gz"
[ -f "$drop/$tarball" ] || fail "$tarball is not in the drop folder"
(cd "$drop" && sha256sum --quiet -c "$tarball.sha256") || fail "$tarball does not match its sha256"
got=$(tar -xzOf "$drop/$tarball" "widget-$version/VERSION") || fail "$tarball has no VERSION"
[ "$got" = "$version" ] || fail "$tarball says VERSION $got"
tar -xzOf "$drop/$tarball" "widget-$version/CHANGELOG.md" | grep -q "^## $version " || fail "$tarball's CHANGELOG.md has no $version section"
echo "verify-drop: ok $tarball (sha256 matches, VERSION $version, changelog has $version)"
SH
chmod +x "$work/scripts/"*.sh

changelog() { # the released sections, after an optional Unreleased section
  cat <<'EOF'
# Changelog

All notable changes to widget are listed here, newest first.

EOF
  [ $# -gt 0 ] && printf '## Unreleased\n\n%s\n\n' "$1"
  cat <<'EOF'
## 1.7.0 - 2025-10-30

- Python 3.13 support (#199)
- Remove the deprecated `Widget.draw()` (#190)

## 1.6.0 - 2025-10-02

- First release with type hints (#171)
EOF
}

echo 1.7.0 >"$work/VERSION"
changelog >"$work/CHANGELOG.md"
g add -A
at "2025-10-30T15:00:00Z" g commit -q -m "Release 1.7.0"
at "2025-10-30T15:00:00Z" g tag -a v1.7.0 -m "widget 1.7.0"

cat >>"$work/src/widget/__init__.py" <<'EOF'

    def load_config(self, path):
        with open(path) as f:
            text = f.read()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
EOF
changelog "- Fix a crash when the config file is empty (#205)" >"$work/CHANGELOG.md"
at "2025-11-05T10:12:00Z" g commit -q -am "Fix a crash on an empty config file (#205)"
sed -i 's/    def render(self):/    def render(self, width=None):/' "$work/src/widget/__init__.py"
changelog "- \`Widget.render()\` accepts a \`width\` argument (#208)
- Fix a crash when the config file is empty (#205)" >"$work/CHANGELOG.md"
at "2025-11-12T16:40:00Z" g commit -q -am "render(): optional width (#208)"

git init -q --bare -b main "$dir/origin.git"
g push -q "$dir/origin.git" main v1.7.0
git clone -q "$dir/origin.git" "$dir/widget"
git -C "$dir/widget" config user.email release-manager@example.com
git -C "$dir/widget" config user.name "release manager"
git -C "$dir/widget" config core.pager cat

# The previous release is already in the drop folder.
git -C "$dir/widget" archive --format=tar.gz --prefix=widget-1.7.0/ -o "$dir/drop/widget-1.7.0.tar.gz" v1.7.0
(cd "$dir/drop" && sha256sum widget-1.7.0.tar.gz >widget-1.7.0.tar.gz.sha256)

# One more change lands upstream after the clone, so "git pull" brings it.
echo '    RETRIES = 3' >>"$work/src/widget/__init__.py"
changelog "- Retry transient fetch errors up to 3 times (#212)
- \`Widget.render()\` accepts a \`width\` argument (#208)
- Fix a crash when the config file is empty (#205)" >"$work/CHANGELOG.md"
at "2025-11-25T09:03:00Z" g commit -q -am "Retry transient fetch errors (#212)"
g push -q "$dir/origin.git" main
rm -rf "$work"
echo "scenario ready in $dir"
