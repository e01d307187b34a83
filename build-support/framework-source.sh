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
# standard input, to a `git credential-cache` daemon that keeps it in memory; git processes ask
# the daemon for it over a socket. Pants' process definitions (which its caches store, and which
# preserved sandboxes write out) only ever name the socket.
#
# Before Pants runs, the tag is looked up in the chosen repository, so a missing token or a wrong
# tag fails at once with a clear message, and the resolved commit is exported as
# FRAMEWORK_SOURCE_INFO, which the framework layer records in python/framework-source.json.

FRAMEWORK_REPO_URL="https://github.com/amithasarath/test_common_framework.git"
FRAMEWORK_SAMPLE_DIR="$BUILDROOT/3rdparty/framework-sample"
FRAMEWORK_REQUIREMENTS="$BUILDROOT/3rdparty/python/framework-requirements.txt"

framework_tag() {
  sed -n -E 's|.*test_common_framework\.git@([^ #;]+).*|\1|p' "$FRAMEWORK_REQUIREMENTS" | head -n 1
}

framework_sample_digest() {
  (cd "$FRAMEWORK_SAMPLE_DIR" &&
    find . -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 | LC_ALL=C sort -z |
    xargs -0 sha256sum | sha256sum | cut -c 1-16)
}

# Publishes the sample as a git repository with one commit per tag listed in its TAGS file.
# Author, committer and dates are fixed, so every machine gets the same commit ids.
build_framework_sample_repo() {
  local served="$1"
  [[ -f "$served/.complete" ]] && return 0
  log "Serving the framework sample from $served ..."
  rm -rf "$served" && mkdir -p "$served"
  chmod a+rx "$(dirname "$served")" "$served" 2>/dev/null || true # readable by every user here

  local work="$served/work"
  mkdir -p "$work"
  (
    cd "$work"
    export GIT_AUTHOR_NAME="framework sample" GIT_AUTHOR_EMAIL="sample@invalid"
    export GIT_COMMITTER_NAME="framework sample" GIT_COMMITTER_EMAIL="sample@invalid"
    export GIT_AUTHOR_DATE="2024-01-01T00:00:00Z" GIT_COMMITTER_DATE="2024-01-01T00:00:00Z"
    export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
    git init --quiet --initial-branch=main .
    local tag
    while read -r tag; do
      [[ -z "$tag" || "$tag" == \#* ]] && continue
      find . -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
      (cd "$FRAMEWORK_SAMPLE_DIR" && tar --exclude=__pycache__ --exclude=TAGS -cf - .) | tar -xf -
      # The sample says it is one: its version carries a `+sample` local label.
      sed -i.bak "s/@SAMPLE_VERSION@/${tag#v}+sample/g" pyproject.toml test_common_framework/__init__.py
      rm -f pyproject.toml.bak test_common_framework/__init__.py.bak
      git add --all && git commit --quiet --allow-empty -m "test-common-framework sample ${tag}"
      git tag "$tag"
    done <"$FRAMEWORK_SAMPLE_DIR/TAGS"
  ) >"$served.log" 2>&1 || { cat "$served.log" >&2; die "Could not build the framework sample repository."; }
  git clone --quiet --bare "$work" "$served/test_common_framework.git"
  rm -rf "$work"
  touch "$served/.complete"
}

# Hands GH_TOKEN to a credential-cache daemon for the given https origin; prints the
# credential.helper value that asks it.
cache_token_for() {
  local origin="$1" # e.g. https://github.com
  # Unix socket paths are limited to ~100 bytes, so not under $CACHE.
  local socket_dir="${XDG_RUNTIME_DIR:-/tmp}/pants-lambda-git-credentials-$(id -u)"
  mkdir -p "$socket_dir" && chmod 700 "$socket_dir"
  local socket="$socket_dir/socket"
  local protocol="${origin%%://*}" host="${origin#*://}"
  # printf is a shell builtin: the token is in no process's arguments.
  printf 'protocol=%s\nhost=%s\nusername=%s\npassword=%s\n\n' \
    "$protocol" "$host" "${FRAMEWORK_GIT_USERNAME:-x-access-token}" "$GH_TOKEN" |
    git -c credential.helper= credential-cache --timeout=7200 --socket "$socket" store ||
    die "Could not start git's credential cache (git credential-cache) for the framework token."
  printf 'cache --timeout=7200 --socket %s' "$socket"
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
      # a shared remote cache must find equal on every machine.
      local served="/tmp/pants-lambda-framework-sample/$(framework_sample_digest)"

      [[ -f "$served/.complete" ]] || with_bootstrap_lock build_framework_sample_repo "$served"
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
      kind=mirror url="file://$(cd "$source" && pwd)" display="$url"
      ;;
  esac

  local config=()
  [[ "$url" != "$FRAMEWORK_REPO_URL" ]] && config+=("url.$url.insteadOf" "$FRAMEWORK_REPO_URL")
  if [[ -n "${GH_TOKEN:-}" && "$url" =~ ^(https?://[^/]+) ]]; then
    config+=("credential.helper" "$(cache_token_for "${BASH_REMATCH[1]}")")
  fi
  export_git_config ${config[@]+"${config[@]}"}
  export GIT_TERMINAL_PROMPT=0 # fail, never prompt, when a credential is missing

  local tag
  tag="$(framework_tag)"
  [[ -n "$tag" ]] || die "Found no '...test_common_framework.git@<tag>' requirement in $FRAMEWORK_REQUIREMENTS."
  local refs
  if ! refs="$(git ls-remote --tags "$FRAMEWORK_REPO_URL" 2>"$CACHE/logs/framework-ls-remote.log")"; then
    local why
    why="$(grep -v '^\s*$' "$CACHE/logs/framework-ls-remote.log" | tail -n 1)"
    if [[ -z "${GH_TOKEN:-}" ]] && grep -q -i -E "username|authenticat|401|403|terminal prompts" "$CACHE/logs/framework-ls-remote.log"; then
      die "Cannot read the framework repository $display (FRAMEWORK_SOURCE=$source): it requires authentication, and GH_TOKEN is not set. Set GH_TOKEN to a token that can read it (see 'The framework' in README.md). git said: $why"
    fi
    die "Cannot read the framework repository $display (FRAMEWORK_SOURCE=$source${GH_TOKEN:+, with GH_TOKEN}). git said: $why"
  fi
  # An annotated tag's `^{}` line names the commit; a lightweight tag's own line does.
  local commit
  commit="$(awk -v t="refs/tags/$tag" '$2 == t "^{}" { print $1; found = 1 } $2 == t && !found { c = $1 } END { if (!found) print c }' <<<"$refs")"
  if [[ -z "$commit" ]]; then
    local tags
    tags="$(awk '{ sub("refs/tags/", "", $2); sub("\\^\\{\\}", "", $2); print $2 }' <<<"$refs" | sort -u -V | tr '\n' ' ')"
    die "Tag $tag (from $FRAMEWORK_REQUIREMENTS) is not in the framework repository $display. Tags there: ${tags:-none}. Fix the tag, then rerun."
  fi
  # What the framework layer records (python/framework-source.json). Machine paths stay out.
  local repository="$url"
  [[ "$kind" == sample ]] && repository="3rdparty/framework-sample"
  export FRAMEWORK_SOURCE_INFO="{\"commit\": \"$commit\", \"repository\": \"$repository\", \"source\": \"$kind\", \"tag\": \"$tag\"}"
  # From here on, only the credential daemon holds the token: not Pants, nor anything it runs.
  unset GH_TOKEN
}
