#!/usr/bin/env bash
# Performs the Dockerfile's build and runtime steps without a Docker engine (none runs where this
# project is developed): in a fresh copy of the repository, one directory per build stage, then
# starts the final stage the way the Helm chart does: the migration Job's command first, then
# ENTRYPOINT + CMD (tini → node dist/server.js) as the image's user, in its WORKDIR, with only
# the image's ENV and the -e variables.
#
# In lock-step with the Dockerfile: the script reads it and performs its instructions in order.
# FROM, WORKDIR, COPY, ENV, USER, EXPOSE, HEALTHCHECK, ENTRYPOINT and CMD are interpreted; a RUN must be one of
# those perform_run knows, so a RUN added to the Dockerfile stops the script until someone decides
# here how to perform it. The migration command is read from the chart's Job template.
#
# Usage: scripts/docker-steps.sh [--check] [-f DOCKERFILE] [--workdir DIR] [-e NAME[=VALUE]]...
#   --check          only check that this script performs every instruction (builds nothing)
#   -f DOCKERFILE    default: the repository's Dockerfile (the build context is always the repository)
#   --workdir DIR    where the stages are assembled, and kept; the image's root is DIR/<last stage>.
#                    Default: a temporary directory, removed on exit
#   -e NAME=VALUE    a variable for the container, as `docker run -e`; `-e NAME` passes this
#                    environment's NAME, and nothing when it is unset
# The container stops on SIGTERM or SIGINT (forwarded to tini); the script exits with its status.
# The HEALTHCHECK command runs every 2 s (as the image's user, with the container's environment)
# until it first succeeds: "docker-steps: healthcheck: healthy" is logged then.
# FROM node:<major>.x: this machine's node when it is that major version, else $NODE<major>_BIN
# (scripts/test-services.sh exports NODE24_BIN).
#
#   source scripts/test-services.sh
#   DATABASE_URL=$TEST_DATABASE_URL REDIS_URL=$TEST_REDIS_URL ADMIN_TOKENS=$(openssl rand -hex 24) \
#     SECRET_KEY=$(openssl rand -base64 32) scripts/docker-steps.sh \
#     -e DATABASE_URL -e REDIS_URL -e ADMIN_TOKENS -e SECRET_KEY
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dockerfile="${repo_root}/Dockerfile"
migration_job="${repo_root}/helm/reseller-auth/templates/migration-job.yaml"
# The `node` user of the official Node.js images (USER 1000:1000), as the chart's securityContext names it.
node_uid=1000
node_gid=1000
check_only=0
work=""
own_work=0
run_env=()

log() { printf 'docker-steps: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }

while (($# > 0)); do
  case "$1" in
    --check) check_only=1 ;;
    -f) dockerfile="$(realpath "${2:?-f needs a file}")"; shift ;;
    --workdir) work="${2:?--workdir needs a directory}"; shift ;;
    -e)
      [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*(=|$) ]] || die "-e needs NAME or NAME=VALUE"
      if [[ $2 == *=* ]]; then run_env+=("$2"); elif [[ -v $2 ]]; then run_env+=("$2=${!2}"); fi
      shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

# The Dockerfile's instructions, one per element: continuation lines joined, comments and parser
# directives dropped, whitespace collapsed (so that they compare as text).
instructions=()
read_dockerfile() {
  local line current="" continued='^(.*)\\[[:space:]]*$' skipped='^[[:space:]]*(#.*)?$'
  while IFS= read -r line || [[ -n $line ]]; do
    line="${line%$'\r'}"
    [[ $line =~ $skipped ]] && continue
    if [[ $line =~ $continued ]]; then current+="${BASH_REMATCH[1]} "; continue; fi
    current+="$line"
    instructions+=("$(tr -s '[:space:]' ' ' <<<"$current" | sed 's/^ //; s/ $//')")
    current=""
  done <"$dockerfile"
  [[ -z $current ]] || die "the Dockerfile ends inside a continued line"
}

# Docker and git disagree on unanchored patterns (Docker anchors them at the root, git matches
# them at any depth) and on "!" exceptions under excluded directories: allow neither.
check_dockerignore() {
  local pattern
  while IFS= read -r pattern || [[ -n $pattern ]]; do
    [[ $pattern =~ ^[[:space:]]*(#.*)?$ ]] && continue
    [[ $pattern == /* || $pattern == '**/'* ]] ||
      die ".dockerignore: \"$pattern\" must start with / or **/ (see the file's header)"
  done <"${repo_root}/.dockerignore"
}

# The build context: the working tree's tracked and new files (what is about to be committed),
# minus .gitignore, minus .dockerignore, each existing file once.
make_context() {
  local context="$1"
  mkdir -p "$context"
  (
    cd "$repo_root"
    {
      comm -z -23 <(git ls-files -cz | sort -zu) <(git ls-files -ciz --exclude-from=.dockerignore | sort -zu)
      git ls-files -oz --exclude-standard --exclude-from=.dockerignore
    } | while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
      tar --null -T - -cf - | tar -xf - -C "$context"
  )
}

# Per-stage state, as Docker keeps it: a root directory ($work/<stage>), WORKDIR, ENV, USER,
# ENTRYPOINT and CMD, all inherited by `FROM <stage>`.
declare -A workdir_of env_of user_of entrypoint_of cmd_of healthcheck_of
stage=""
dry=0
# The directory of the node (and npm) that plays the base image's, set by the first FROM.
node_dir=""

in_stage() { # in_stage <path>: that path of the current stage's filesystem
  local path="$1"
  [[ $path == /* ]] || path="${workdir_of[$stage]%/}/$path"
  printf '%s%s' "$work/$stage" "$path"
}

# What instructions after the current one read of a stage: "all" when a FROM builds on it, else
# the source paths of the COPY --from=<stage> that name it (none: nothing reads it again).
read_later() {
  local instruction words word paths=()
  for instruction in "${instructions[@]:step}"; do
    [[ $instruction =~ ^[Ff][Rr][Oo][Mm]\ $1\  ]] && { echo all; return; }
    if [[ $instruction =~ ^[Cc][Oo][Pp][Yy]\ --from=$1\ (.*)$ ]]; then
      read -ra words <<<"${BASH_REMATCH[1]}"
      unset 'words[-1]'
      for word in "${words[@]}"; do [[ ${word#/} != '' && ${word#/} != . ]] || { echo all; return; }; done
      paths+=("${words[@]}")
    fi
  done
  ((${#paths[@]} == 0)) || printf '%s\n' "${paths[@]}"
}

perform_from() {
  [[ $1 =~ ^([^ ]+)\ [Aa][Ss]\ ([a-z][a-z0-9_-]*)$ ]] || die "FROM $1: name every stage (FROM <image> AS <name>)"
  local image="${BASH_REMATCH[1]}" name="${BASH_REMATCH[2]}"
  if [[ -v "workdir_of[$image]" ]]; then
    workdir_of[$name]="${workdir_of[$image]}" env_of[$name]="${env_of[$image]}" user_of[$name]="${user_of[$image]}"
    entrypoint_of[$name]="${entrypoint_of[$image]}" cmd_of[$name]="${cmd_of[$image]}" healthcheck_of[$name]="${healthcheck_of[$image]}"
    # A copy of the earlier stage, which must stay as it was for what later reads it. Moved
    # instead when no later FROM builds on it (a move of node_modules takes no time), and only
    # the paths a later COPY --from takes are copied back: nothing else of it can be observed.
    if ((!dry)); then
      local later path
      later="$(read_later "$image")"
      if [[ $later == all ]]; then
        cp -a "$work/$image" "$work/$name"
      else
        mv "$work/$image" "$work/$name"
        mkdir "$work/$image"
        while IFS= read -r path; do
          [[ -n $path && -e "$work/$name/${path#/}" ]] || continue
          mkdir -p "$(dirname "$work/$image/${path#/}")"
          cp -a "$work/$name/${path#/}" "$work/$image/${path#/}"
        done <<<"$later"
      fi
    fi
  elif [[ $image =~ ^node:(([0-9]+)\.[0-9]+\.[0-9]+)-bookworm-slim(@sha256:[0-9a-f]{64})?$ ]]; then
    local version="${BASH_REMATCH[1]}" major="${BASH_REMATCH[2]}" have candidate
    workdir_of[$name]=/ env_of[$name]="" user_of[$name]=root entrypoint_of[$name]="" cmd_of[$name]="" healthcheck_of[$name]=""
    if ((!dry)); then
      # A Node.js of the same major version plays the base image's: this machine's, or $NODE<major>_BIN.
      local var="NODE${major}_BIN"
      for candidate in "$(command -v node || true)" "${!var:-}"; do
        [[ -n $candidate && -x $candidate ]] || continue
        have="$("$candidate" -p process.version)"
        if [[ $have == "v${major}."* ]]; then node_dir="$(dirname "$candidate")"; break; fi
      done
      [[ -n $node_dir ]] || die "FROM $image needs Node.js ${major}: this machine has $(node --version 2>/dev/null || echo none); set ${var} (scripts/node24.sh installs Node.js 24)"
      [[ $have == "v${version}" ]] || log "note: the Node.js used is ${have}, the image's ${version}"
      container_path="${node_dir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
      mkdir -p "$work/$name"
    fi
  else
    die "FROM $image: only node:<version>-bookworm-slim[@sha256:<digest>] and earlier stages are performed here"
  fi
  stage="$name"
}

perform_copy() {
  local words from="" src dest base
  read -ra words <<<"$1"
  if [[ ${words[0]} == --from=* ]]; then
    from="${words[0]#--from=}"
    words=("${words[@]:1}")
    [[ -v "workdir_of[$from]" ]] || die "COPY --from=$from: no such earlier stage"
  fi
  ((${#words[@]} >= 2)) || die "COPY $1: needs a source and a destination"
  for src in "${words[@]}"; do
    [[ $src != -* && $src != *[][*?\"]* ]] || die "COPY $1: only plain paths are performed here (no flags, globs or JSON form)"
  done
  dest="${words[-1]}"
  unset 'words[-1]'
  ((dry)) && return 0
  base="$work/context"
  [[ -z $from ]] || base="$work/$from"
  local target dir_dest=0
  target="$(in_stage "$dest")"
  [[ $dest == */ || ${#words[@]} -gt 1 ]] && dir_dest=1
  for src in "${words[@]}"; do
    [[ $src != *..* ]] || die "COPY $1: paths outside the context"
    src="$base/${src#/}"
    if [[ -d $src && -n $from && ! -e $target && ${#words[@]} == 1 && -z $(read_later "$from") ]]; then
      # Nothing after this reads the stage it comes from: moved, the same tree without the copying.
      mkdir -p "$(dirname "$target")" && mv "$src" "$target"
    elif [[ -d $src ]]; then # a directory's contents, as Docker copies them
      mkdir -p "$target" && cp -RP --preserve=mode,timestamps "$src/." "$target/"
    elif [[ -e $src ]]; then
      if ((dir_dest)) || [[ -d $target ]]; then mkdir -p "$target" && cp -P --preserve=mode,timestamps "$src" "$target/"
      else mkdir -p "$(dirname "$target")" && cp -P --preserve=mode,timestamps "$src" "$target"; fi
    else
      die "COPY $1: ${src#"$work/"} does not exist (excluded by .dockerignore?)"
    fi
  done
}

# A RUN's command on this machine, in the stage's WORKDIR, with only the stage's ENV (and the
# proxy settings Docker passes to builds): nothing of the caller's environment leaks in.
run_in_stage() {
  local vars=() name
  for name in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
    [[ -v $name ]] && vars+=("$name=${!name}")
  done
  local stage_env
  read -ra stage_env <<<"${env_of[$stage]}"
  (cd "$(in_stage .)" && env -i PATH="$container_path" HOME="$HOME" "${vars[@]}" "${stage_env[@]}" "$@")
}

# Debian packages a RUN installs into a stage are installed on this machine instead (from the
# same distribution), without clearing its package lists.
need_debian_packages() {
  local missing=() package
  command -v dpkg-query >/dev/null || die "this machine is not Debian: install $* by hand"
  for package in "$@"; do
    [[ $(dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null) == installed ]] || missing+=("$package")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { as_root apt-get update -qq && as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

perform_run() {
  local apt_install='^apt-get update && apt-get install -y --no-install-recommends ([a-z0-9][a-z0-9.+-]*( [a-z0-9][a-z0-9.+-]*)*) && rm -rf /var/lib/apt/lists/\*$'
  case "$1" in
    '--mount=type=cache,target=/root/.npm,sharing=locked npm ci --prefer-offline --ignore-scripts --no-audit --no-fund')
      # The cache mount is this machine's npm cache, wherever the caller's npm keeps it (the
      # stage's environment does not carry npm_config_cache).
      ((dry)) || run_in_stage npm ci --cache "$(npm config get cache)" --prefer-offline --ignore-scripts --no-audit --no-fund ;;
    "npm rebuild bcrypt --build-from-source && node -e \"require('bcrypt'); require('@node-rs/argon2')\"" | \
      'npm run build -- --sourceMap false' | \
      "cp -a node_modules/@node-rs .node-rs && npm prune --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && cp -an .node-rs/. node_modules/@node-rs/ && rm -rf .node-rs && node -e \"require('@node-rs/argon2')\"" | \
      "find node_modules -name '*.map' -type f -delete && find node_modules/@prisma/client/runtime -type f ! -name 'client.*' ! -name 'index-browser.*' ! -name 'query_compiler_bg.postgresql.*' -delete")
      ((dry)) || run_in_stage sh -c "$1" ;;
    'mkdir /app/data && chown 1000:1000 /app/data')
      if ((!dry)); then
        mkdir "$(in_stage /app/data)"
        [[ $(id -u) != 0 ]] || chown "$node_uid:$node_gid" "$(in_stage /app/data)"
      fi ;;
    *)
      [[ $1 =~ $apt_install ]] || die "RUN $1: not a step this script knows; teach perform_run how to perform it"
      local packages
      read -ra packages <<<"${BASH_REMATCH[1]}"
      ((dry)) || need_debian_packages "${packages[@]}" ;;
  esac
}

# ENTRYPOINT and CMD in exec form only: a shell form would make sh PID 1, which drops SIGTERM.
exec_form() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e 'const a = JSON.parse(process.argv[1]);
    if (!Array.isArray(a) || a.length === 0 || !a.every((s) => typeof s === "string" && !s.includes("\0"))) process.exit(1);
    process.stdout.write(a.map((s) => `${s}\0`).join(""));' "$1" | base64 -w0 ||
    die "$2 $1: use the exec form, a JSON array of strings"
}

perform() {
  local keyword="${1%% *}" args="${1#* }" word plain_env="^[A-Za-z_][A-Za-z0-9_]*=[^\"'\$\\\\]*\$"
  case "${keyword^^}" in
    FROM) perform_from "$args" ;;
    WORKDIR)
      [[ $args == /* ]] || die "WORKDIR $args: use an absolute path"
      workdir_of[$stage]="$args"
      ((dry)) || mkdir -p "$(in_stage "$args")" ;;
    COPY) perform_copy "$args" ;;
    RUN) perform_run "$args" ;;
    ENV)
      for word in $args; do
        [[ $word =~ $plain_env ]] || die "ENV $args: only NAME=value words without quotes are performed here"
      done
      env_of[$stage]+=" $args" ;;
    USER)
      [[ $args == "${node_uid}:${node_gid}" ]] || die "USER $args: only ${node_uid}:${node_gid}, the official image's node user, is performed here"
      user_of[$stage]=node ;;
    HEALTHCHECK)
      [[ $args =~ ^((--(interval|timeout|start-period|retries)=[0-9]+s?\ )*)CMD\ (\[.*\])$ ]] ||
        die "HEALTHCHECK $args: only --interval/--timeout/--start-period/--retries and CMD in the exec form are performed here"
      healthcheck_of[$stage]="$(exec_form "${BASH_REMATCH[4]}" HEALTHCHECK)" ;;
    EXPOSE) [[ $args =~ ^[0-9]+(\ [0-9]+)*$ ]] || die "EXPOSE $args: ports only" ;;
    # Docker: setting ENTRYPOINT resets a CMD inherited from the base.
    ENTRYPOINT) entrypoint_of[$stage]="$(exec_form "$args" ENTRYPOINT)" cmd_of[$stage]="" ;;
    CMD) cmd_of[$stage]="$(exec_form "$args" CMD)" ;;
    *) die "$keyword: not an instruction this script performs" ;;
  esac
}

# Decodes a stored exec form into the named array.
job=() entrypoint=() cmd=() healthcheck=()
exec_array() { mapfile -d '' -t "$1" < <(base64 -d <<<"$2"); }

read_dockerfile
check_dockerignore
# Docker's default PATH, with the base image's node and npm first (the image has them in
# /usr/local/bin); perform_from puts the Node.js it chose there.
container_path="$(dirname "$(command -v node)"):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

if ((check_only)); then
  dry=1
  for instruction in "${instructions[@]}"; do perform "$instruction"; done
  log "every one of the ${#instructions[@]} instructions of ${dockerfile} is performed here"
  exit 0
fi

if [[ -z $work ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/reseller-auth-docker-steps.XXXXXX")"
  # shellcheck disable=SC2034 # read by the EXIT trap
  own_work=1
fi
mkdir -p "$work"
work="$(realpath "$work")"
[[ -z $(ls -A "$work") ]] || die "--workdir $work is not empty"
trap 'if ((own_work)); then rm -rf "$work"; fi' EXIT
# The image's user must reach WORKDIR, as it can inside the container.
chmod 755 "$work"
make_context "$work/context"
log "build context: $(du -sh "$work/context" | cut -f1) in $work/context"

step=0
for instruction in "${instructions[@]}"; do
  step=$((step + 1))
  log "step ${step}/${#instructions[@]}: ${instruction}"
  perform "$instruction"
done
image="$work/$stage"
app="$(in_stage .)"
log "image assembled in ${image} (WORKDIR ${workdir_of[$stage]})"

# The image's user: `node` is uid/gid 1000 in the official images, whatever this machine calls it.
as_user=()
if [[ ${user_of[$stage]} == node ]]; then
  if [[ $(id -u) == 0 ]]; then
    as_user=(setpriv --reuid="$node_uid" --regid="$node_gid" --clear-groups --)
  else
    log "note: not root, so the container runs as $(id -un), not as node (uid $node_uid)"
  fi
fi
# The image has node in /usr/local/bin, where every user reaches it. The Node.js chosen here may
# live where the image's user cannot (scripts/node24.sh installs under /root/.cache, mode 700):
# execvp would then silently skip it and run another node on PATH. Give the user a copy.
if ((${#as_user[@]} > 0)) && ! "${as_user[@]}" test -x "${node_dir}/node"; then
  mkdir -p "$work/.node/bin"
  cp "$(readlink -f "${node_dir}/node")" "$work/.node/bin/node"
  chmod 755 "$work/.node" "$work/.node/bin" "$work/.node/bin/node"
  container_path="$work/.node/bin:${container_path#*:}"
  log "note: ${node_dir}/node is out of the image user's reach: it runs a copy, $work/.node/bin/node"
fi
home=/root
[[ ${user_of[$stage]} != node ]] || home=/home/node
read -ra image_env <<<"${env_of[$stage]}"
image_env=(PATH="$container_path" HOME="$home" "${image_env[@]}")

# The chart's migration Job: its command, with the image's ENV and the Job's own variables.
job_command="$(sed -n 's/^ *command: *\(\[.*\]\) *$/\1/p' "$migration_job")"
job_form="$(exec_form "$job_command" "the migration Job's command:")"
exec_array job "$job_form"
job_env=()
for var in "${run_env[@]}"; do [[ $var != DATABASE_URL=* && $var != LOG_LEVEL=* ]] || job_env+=("$var"); done
log "migration Job: ${job[*]}"
(cd "$app" && env -i "${image_env[@]}" "${job_env[@]}" "${as_user[@]}" "${job[@]}") || die "the migration Job failed"

exec_array entrypoint "${entrypoint_of[$stage]}"
exec_array cmd "${cmd_of[$stage]}"
log "starting: ${entrypoint[*]} ${cmd[*]}"
cd "$app"
# In a container tini is PID 1 and so adopts orphaned processes; here it has to ask for that.
env -i "${image_env[@]}" TINI_SUBREAPER=1 "${run_env[@]}" "${as_user[@]}" "${entrypoint[@]}" "${cmd[@]}" &
container=$!
trap 'kill -TERM "$container" 2>/dev/null || true' TERM INT
log "container running as pid ${container}"

# The HEALTHCHECK, as Docker runs it inside the container, until it first passes.
if [[ -n ${healthcheck_of[$stage]} ]]; then
  exec_array healthcheck "${healthcheck_of[$stage]}"
  (
    while kill -0 "$container" 2>/dev/null; do
      if env -i "${image_env[@]}" "${run_env[@]}" "${as_user[@]}" timeout 5 "${healthcheck[@]}" >/dev/null 2>&1; then
        log "healthcheck: healthy"
        exit 0
      fi
      sleep 2
    done
  ) &
fi

# `wait` returns early when a trapped signal arrives: wait again until the container has exited.
set +e
status=0
while :; do
  wait "$container"
  status=$?
  kill -0 "$container" 2>/dev/null || break
done
# The signal may have interrupted `wait` just as the container exited: fetch its real status.
if ((status > 128)); then
  wait "$container" 2>/dev/null
  last=$?
  ((last == 127)) || status=$last
fi
log "container exited with status ${status}"
exit "$status"
