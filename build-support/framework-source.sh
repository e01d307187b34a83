# Sourced by ./pants: decides where the private framework comes from.
#
# Requirements name the framework by its GitHub URL and tag (3rdparty/python/
# framework-requirements.txt). FRAMEWORK_SOURCE decides what that URL serves:
#
#   sample (default)  the sample in 3rdparty/framework-sample, served from a local git
#                     repository at every tag in its TAGS file; works offline
#   github            the real repository, authenticated with GH_TOKEN when it is set
#   anything else     a mirror with the same tags: a git URL, or a path to a local repository
#
# It is handed to the processes Pants runs as git configuration in the environment
# (GIT_CONFIG_COUNT/KEY_n/VALUE_n, passed through by pants.toml [subprocess-environment]): a
# URL rewrite for the sample and mirrors, and a credential helper when GH_TOKEN is set.
#
# The token never enters that configuration, a URL, a file or a command line. It is handed, on
# standard input, to a `git credential-cache` daemon that keeps it in memory for this ./pants run
# only; git processes ask the daemon for it over a socket in a folder only this user can enter.
# Pants' process definitions (which its caches store, and which preserved sandboxes write out)
# only ever name that folder. See start_credential_daemon.
#
# Paths in /tmp are shared with every local user, so nothing found there is trusted unchecked:
# the socket's folder and the served sample must be ours and closed to others, and the sample is
# built privately, then renamed into place (build-support/launcher/launcher_util.py does the checks).
#
# Before Pants runs, the tag is looked up in the chosen repository, so a missing token or a wrong
# tag fails at once with a clear message, and the resolved commit is exported as
# FRAMEWORK_SOURCE_INFO, which the framework layer records in python/framework-source.json.

FRAMEWORK_REPO_URL="https://github.com/amithasarath/test_common_framework.git"
FRAMEWORK_SAMPLE_DIR="$BUILDROOT/3rdparty/framework-sample"
FRAMEWORK_REQUIREMENTS="$BUILDROOT/3rdparty/python/framework-requirements.txt"
# Where the sample is served from. It is part of every Pants process's cache key, so keep the
# default unless you must (another user owns it on a shared machine).
FRAMEWORK_SAMPLE_SERVE_DIR="${FRAMEWORK_SAMPLE_SERVE_DIR:-/tmp/pants-lambda-framework-sample}"

framework_tag() {
  sed -n -E 's|.*test_common_framework\.git@([^ #;]+).*|\1|p' "$FRAMEWORK_REQUIREMENTS" | head -n 1
}

# Writes the sample's git history into the current folder: one commit per tag listed in its TAGS
# file. Author, committer and dates are fixed, so every machine gets the same commit ids. (It
# runs where `set -e` does not apply, in an `if`, so every step checks its own result.)
commit_framework_sample_tags() {
  export GIT_AUTHOR_NAME="framework sample" GIT_AUTHOR_EMAIL="sample@invalid"
  export GIT_COMMITTER_NAME="framework sample" GIT_COMMITTER_EMAIL="sample@invalid"
  export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
  export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
  git init --quiet --initial-branch=main . || return 1
  local tag
  while read -r tag; do
    [[ -z "$tag" || "$tag" == \#* ]] && continue
    find . -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} + || return 1
    (cd "$FRAMEWORK_SAMPLE_DIR" && tar --exclude=__pycache__ --exclude=TAGS -cf - .) | tar -xf - || return 1
    # The sample says it is one: its version carries a `+sample` local label. (`-i.bak`, not a
    # bare `-i`, which BSD sed reads differently.)
    sed -i.bak "s/@SAMPLE_VERSION@/${tag#v}+sample/g" pyproject.toml test_common_framework/__init__.py || return 1
    rm -f pyproject.toml.bak test_common_framework/__init__.py.bak
    git add --all || return 1
    git commit --quiet --allow-empty -m "test-common-framework sample ${tag}" || return 1
    git tag "$tag" || return 1
  done <"$FRAMEWORK_SAMPLE_DIR/TAGS"
}

# Serves the sample as a bare git repository at $1. It is built in a private folder (mktemp -d)
# beside $1 and renamed into place in one step, so no one (another run, another user) ever sees,
# or gets to change, a half-built one. (It runs inside $(...), where bash before 4.4 ignores
# `set -e`: each step checks its own result.)
build_framework_sample_repo() {
  local served="$1" staging
  log "Serving the framework sample from $served ..."
  staging="$(mktemp -d "$(dirname "$served")/.building.XXXXXX")" ||
    die "Could not create a folder in $(dirname "$served") to build the framework sample in."
  local built_log="$CACHE/logs/framework-sample.log"
  if ! (mkdir "$staging/work" && cd "$staging/work" && commit_framework_sample_tags &&
    git clone --quiet --bare . "$staging/test_common_framework.git") >"$built_log" 2>&1; then
    cat "$built_log" >&2
    rm -rf "$staging"
    die "Could not build the framework sample repository (log: $built_log)."
  fi
  rm -rf "$staging/work"
  touch "$staging/.complete" || die "Could not write $staging/.complete."
  launcher_util publish "$staging" "$served" || exit 1
}

# Where the sample is served from, verified (and built first if need be): prints its path.
serve_framework_sample() {
  case "$FRAMEWORK_SAMPLE_SERVE_DIR" in
    /*) ;;
    *) die "FRAMEWORK_SAMPLE_SERVE_DIR=$FRAMEWORK_SAMPLE_SERVE_DIR must be an absolute path." ;;
  esac
  local verdict
  verdict="$(launcher_util served-sample "$FRAMEWORK_SAMPLE_DIR" "$FRAMEWORK_SAMPLE_SERVE_DIR")" || exit 1
  case "$verdict" in
    "ok "*) ;;
    "build "*) build_framework_sample_repo "${verdict#build }" || exit 1 ;;
    *) die "Unexpected answer from build-support/launcher/launcher_util.py: $verdict" ;;
  esac
  printf '%s\n' "${verdict#* }"
}

# Hands GH_TOKEN to a `git credential-cache` daemon of this run's own and sets CREDENTIAL_HELPER
# to the git configuration that asks it.
#
# Its socket is $CREDENTIAL_SOCKET_DIR/<this run's pid>.sock, in a folder that only this user can
# enter: the folder is created with mkdir, mode 700, or else checked to be ours, private and not
# a symbolic link, and ./pants stops if it is not (whoever made the folder could otherwise
# receive the token, or hand out a planted one).
#
# The folder is the same on every run, the socket is not. Git configuration reaches Pants'
# processes as environment variables, which are part of every process's cache key, so it names
# only the folder: the helper asks each daemon in it. A socket path per run would rebuild the
# framework's resolve (and every other Pants process that builds a PEX) on every run.
#
# The daemon lives only as long as this ./pants run: a watcher stops it and removes its socket
# when this process (the launcher, then Pants, which `exec` runs under the same pid) has ended,
# however it ended: success, failure, Ctrl-C, SIGTERM, even SIGKILL. Pants keeps its own pid,
# signals and exit code; pantsd works unchanged, and the processes it runs for this run find
# this run's daemon. The daemon's own --timeout is a backstop only, for a watcher that is killed.
start_credential_daemon() {
  local origin="$1" uid # e.g. https://github.com
  uid="$(id -u)"
  # Unix socket paths are limited to ~100 bytes, so not under $CACHE.
  CREDENTIAL_SOCKET_DIR="${XDG_RUNTIME_DIR:-/tmp}/pants-lambda-git-credentials-$uid"
  case "$CREDENTIAL_SOCKET_DIR" in
    *"'"* | *'\'*) die "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR holds a quote or backslash; git's credential helper cannot name it. Set it to a plain path." ;;
  esac
  launcher_util private-dir "$CREDENTIAL_SOCKET_DIR"
  local socket="$CREDENTIAL_SOCKET_DIR/$$.sock"
  rm -f "$socket" # a killed run's, with our pid
  local launcher_pid=$$
  (
    # Ctrl-C (SIGINT, which a background job ignores anyway) and a closed terminal stop Pants,
    # not the watcher; SIGTERM to the whole process group gets it to clean up at once.
    trap '' HUP
    trap 'git credential-cache --socket "$socket" exit; rm -f "$socket"; exit 0' TERM
    while kill -0 "$launcher_pid" 2>/dev/null; do sleep 1; done
    git credential-cache --socket "$socket" exit
    rm -f "$socket"
  ) </dev/null >/dev/null 2>&1 &
  local protocol="${origin%%://*}" host="${origin#*://}"
  # printf is a shell builtin: the token is in no process's arguments.
  printf 'protocol=%s\nhost=%s\nusername=%s\npassword=%s\n\n' \
    "$protocol" "$host" "${FRAMEWORK_GIT_USERNAME:-x-access-token}" "$GH_TOKEN" |
    git -c credential.helper= credential-cache --timeout=7200 --socket "$socket" store ||
    die "Could not start git's credential cache (git credential-cache) for the framework token."
  # Git runs a `!` helper with sh, with the operation (get, store or erase) as $1. It answers
  # `get` with the first daemon in the folder that knows the host, and ignores store and erase:
  # so no git process that Pants runs can start a daemon of its own, which nothing would stop.
  # shellcheck disable=SC2016 # expanded by sh when git runs the helper, not here
  CREDENTIAL_HELPER='!f() { test "$1" = get || exit 0; request=$(cat); for socket in '"'$CREDENTIAL_SOCKET_DIR'"'/*.sock; do test -S "$socket" || continue; answer=$(printf "%s\n\n" "$request" | git credential-cache --socket "$socket" get) && test -n "$answer" && { printf "%s\n" "$answer"; exit 0; }; done; exit 0; }; f'
}

export_git_config() { # export_git_config KEY VALUE [KEY VALUE ...]
  local index=0
  while [[ $# -gt 0 ]]; do
    export "GIT_CONFIG_KEY_$index=$1" "GIT_CONFIG_VALUE_$index=$2"
    index=$((index + 1))
    shift 2
  done
  export GIT_CONFIG_COUNT=$index
}

configure_framework_source() {
  local source="${FRAMEWORK_SOURCE:-sample}" kind url display
  case "$source" in
    sample)
      # A path that depends only on the sample's content, not on this user or machine: it ends
      # up in the git configuration every Pants process gets, and so in their cache keys, which
      # a shared remote cache must find equal on every machine. Being in /tmp, it is checked
      # before use: see serve_framework_sample.
      local served
      served="$(serve_framework_sample)"
      kind=sample url="file://$served/test_common_framework.git"
      display="the bundled framework sample (3rdparty/framework-sample)"
      ;;
    github)
      kind=github url="$FRAMEWORK_REPO_URL" display="$FRAMEWORK_REPO_URL"
      ;;
    *://*@*)
      die "FRAMEWORK_SOURCE must not carry credentials in its URL (they would end up in logs and caches). Give the URL without them and put the token in GH_TOKEN."
      ;;
    *://*)
      kind=mirror url="$source" display="$source"
      ;;
    *)
      [[ -d "$source" ]] || die "FRAMEWORK_SOURCE=$source is not 'sample', 'github', a git URL, or an existing directory holding a git repository."
      git -C "$source" rev-parse --git-dir >/dev/null 2>&1 || die "FRAMEWORK_SOURCE=$source is a directory, but not a git repository (git rev-parse finds none there). Point it at a clone or a mirror of the framework repository with its tags, e.g. made with: git clone --mirror $FRAMEWORK_REPO_URL $source"
      kind=mirror url="file://$(cd "$source" && pwd)" display="$url"
      ;;
  esac

  local config=()
  [[ "$url" != "$FRAMEWORK_REPO_URL" ]] && config+=("url.$url.insteadOf" "$FRAMEWORK_REPO_URL")
  if [[ -n "${GH_TOKEN:-}" && "$url" =~ ^(https?://[^/]+) ]]; then
    # Not in a command substitution: the daemon's watcher must be this shell's child.
    start_credential_daemon "${BASH_REMATCH[1]}"
    config+=("credential.helper" "$CREDENTIAL_HELPER")
  fi
  export_git_config ${config[@]+"${config[@]}"}
  export GIT_TERMINAL_PROMPT=0 # fail, never prompt, when a credential is missing

  local tag
  tag="$(framework_tag)"
  [[ -n "$tag" ]] || die "Found no '...test_common_framework.git@<tag>' requirement in $FRAMEWORK_REQUIREMENTS."
  local refs
  if ! refs="$(git ls-remote --tags "$FRAMEWORK_REPO_URL" 2>"$CACHE/logs/framework-ls-remote.log")"; then
    local why
    # git's first lines say what went wrong; its last ones are advice about access rights.
    why="$(grep -v '^[[:space:]]*$' "$CACHE/logs/framework-ls-remote.log" | head -n 3 | tr '\n' ' ')" || true
    if [[ -z "${GH_TOKEN:-}" ]] && grep -q -i -E "username|authenticat|401|403|terminal prompts" "$CACHE/logs/framework-ls-remote.log"; then
      die "Cannot read the framework repository $display (FRAMEWORK_SOURCE=$source): it requires authentication, and GH_TOKEN is not set. Set GH_TOKEN to a token that can read it (see docs/framework.md). git said: $why"
    fi
    die "Cannot read the framework repository $display (FRAMEWORK_SOURCE=$source${GH_TOKEN:+, with GH_TOKEN}). git said: $why"
  fi
  # An annotated tag's `^{}` line names the commit; a lightweight tag's own line does.
  local commit
  commit="$(awk -v t="refs/tags/$tag" '$2 == t "^{}" { print $1; found = 1 } $2 == t && !found { c = $1 } END { if (!found) print c }' <<<"$refs")"
  if [[ -z "$commit" ]]; then
    local tags
    tags="$(awk '{ sub("refs/tags/", "", $2); sub("\\^\\{\\}", "", $2); print $2 }' <<<"$refs" | sort -u | tr '\n' ' ')"
    tags="${tags% }"
    die "Tag $tag (from $FRAMEWORK_REQUIREMENTS) is not in the framework repository $display. Tags there: ${tags:-none}. Fix the tag, then rerun."
  fi
  # What the framework layer records (python/framework-source.json). Machine paths stay out.
  local repository="$url"
  [[ "$kind" == sample ]] && repository="3rdparty/framework-sample"
  # As JSON. Values made only of characters JSON writes as they are (a commit id, a tag, the
  # sample's or a plain URL) are written here, byte for byte what Python's json.dumps writes;
  # anything else (a quote, a space, a non-ASCII letter) goes through json.dumps, which costs a
  # Python start-up on every run.
  local plain='^[abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~:/@+=,%-]*$' # no ranges: locales
  if [[ "$commit" =~ $plain && "$repository" =~ $plain && "$tag" =~ $plain ]]; then
    FRAMEWORK_SOURCE_INFO="{\"commit\": \"$commit\", \"repository\": \"$repository\", \"source\": \"$kind\", \"tag\": \"$tag\"}"
  else
    FRAMEWORK_SOURCE_INFO="$(launcher_util source-info "commit=$commit" "repository=$repository" "source=$kind" "tag=$tag")"
  fi
  export FRAMEWORK_SOURCE_INFO
  # From here on, only the credential daemon holds the token: not Pants, nor anything it runs.
  unset GH_TOKEN
}
