#!/usr/bin/env bash
# The kiosk shell: start Chromium in kiosk mode on the kiosk page once the platform is
# healthy, and keep it alive. A watchdog restarts the browser when it exits (crash), when its
# DevTools endpoint stops answering or the page left the kiosk (hang, error page), when the
# platform comes back after an outage, and once a day. Every start uses a fresh, throwaway
# profile, so nothing of one visitor survives a restart either.
#
# Config: $KIOSK_CONF (default /etc/yjs-kiosk/kiosk.conf), see kiosk.conf beside this script.
# Under systemd (Type=notify) it reports READY=1 and pings WATCHDOG=1 while healthy.
set -uo pipefail

CONF="${KIOSK_CONF:-/etc/yjs-kiosk/kiosk.conf}"
# shellcheck source=kiosk.conf
[ -r "$CONF" ] && . "$CONF"
PLATFORM_URL="${PLATFORM_URL:?PLATFORM_URL is not set}"
KIOSK_PATH="${KIOSK_PATH:-/kiosk/}"
BRIDGE_URL="${BRIDGE_URL:-}"
IDLE_SECONDS="${IDLE_SECONDS:-90}"
WARN_SECONDS="${WARN_SECONDS:-20}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
WATCHDOG_INTERVAL="${WATCHDOG_INTERVAL:-10}"
HANG_TIMEOUT="${HANG_TIMEOUT:-5}"
HANG_CHECKS="${HANG_CHECKS:-3}"
DEBUG_PORT="${DEBUG_PORT:-9222}"
DAILY_RESTART_HOUR="${DAILY_RESTART_HOUR:-}"
EXTRA_FLAGS="${EXTRA_FLAGS:-}"
MAX_STARTS="${MAX_STARTS:-0}"   # tests: stop after this many browser starts (0 = forever)

log() { printf '%s kiosk-shell: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
notify() { [ -n "${NOTIFY_SOCKET:-}" ] && command -v systemd-notify >/dev/null && systemd-notify "$@" 2>/dev/null; return 0; }

query="idle=${IDLE_SECONDS}&warn=${WARN_SECONDS}"
[ -n "$BRIDGE_URL" ] && query="${query}&bridge=${BRIDGE_URL}"
KIOSK_URL="${PLATFORM_URL%/}${KIOSK_PATH}?${query}"

healthy() { curl -fsS --max-time "$HANG_TIMEOUT" -o /dev/null "${PLATFORM_URL%/}/healthz"; }

wait_for_platform() {
  local delay=1
  until healthy; do
    log "platform not healthy yet; retrying in ${delay}s"
    notify WATCHDOG=1 "STATUS=waiting for ${PLATFORM_URL}/healthz"
    sleep "$delay"
    delay=$(( delay < 30 ? delay * 2 : 30 ))
  done
}

chromium_flags() {
  printf '%s\n' \
    --kiosk --incognito --no-first-run --no-default-browser-check --noerrdialogs \
    --disable-infobars --disable-session-crashed-bubble --disable-translate \
    --disable-features=Translate,TouchpadOverscrollHistoryNavigation,OverscrollHistoryNavigation,MediaRouter \
    --overscroll-history-navigation=0 --disable-pinch --disable-sync --disable-background-networking \
    --disable-component-update --check-for-update-interval=31536000 --password-store=basic \
    --autoplay-policy=no-user-gesture-required --disable-print-preview --kiosk-printing \
    --remote-debugging-address=127.0.0.1 "--remote-debugging-port=${DEBUG_PORT}" \
    "--user-data-dir=${PROFILE}"
  # shellcheck disable=SC2086
  [ -n "$EXTRA_FLAGS" ] && printf '%s\n' $EXTRA_FLAGS
  printf '%s\n' "$KIOSK_URL"
}

# The browser answers on DevTools and its page is still the kiosk page.
browser_ok() {
  local pages
  pages=$(curl -fsS --max-time "$HANG_TIMEOUT" "http://127.0.0.1:${DEBUG_PORT}/json/list") || return 1
  grep -q "\"url\": *\"${PLATFORM_URL%/}${KIOSK_PATH}" <<<"$pages"
}

BROWSER_PID=""
PROFILE=""
stop_browser() {
  if [ -n "$BROWSER_PID" ] && kill -0 "$BROWSER_PID" 2>/dev/null; then
    kill -TERM "$BROWSER_PID" 2>/dev/null
    for _ in 1 2 3 4 5; do kill -0 "$BROWSER_PID" 2>/dev/null || break; sleep 1; done
    kill -KILL "$BROWSER_PID" 2>/dev/null
    wait "$BROWSER_PID" 2>/dev/null
  fi
  BROWSER_PID=""
  [ -n "$PROFILE" ] && rm -rf -- "$PROFILE"
  PROFILE=""
}
trap 'stop_browser; exit 0' TERM INT

starts=0
while :; do
  wait_for_platform
  PROFILE=$(mktemp -d "${TMPDIR:-/tmp}/yjs-kiosk.XXXXXX")
  mapfile -t flags < <(chromium_flags)
  log "starting browser on ${KIOSK_URL}"
  "$CHROMIUM" "${flags[@]}" &
  BROWSER_PID=$!
  starts=$((starts + 1))
  started_day=$(date +%F)
  notify READY=1 "STATUS=browser running"
  misses=0
  platform_down=0
  reason=""
  while :; do
    sleep "$WATCHDOG_INTERVAL"
    if ! kill -0 "$BROWSER_PID" 2>/dev/null; then reason="browser exited"; break; fi
    if healthy; then
      if [ "$platform_down" = 1 ]; then reason="platform is back"; break; fi
    else
      platform_down=1
    fi
    if browser_ok; then misses=0; notify WATCHDOG=1; else misses=$((misses + 1)); fi
    if [ "$misses" -ge "$HANG_CHECKS" ]; then reason="browser hung or left the kiosk page"; break; fi
    if [ -n "$DAILY_RESTART_HOUR" ] && [ "$(date +%F)" != "$started_day" ] && [ "$(date +%-H)" -ge "$DAILY_RESTART_HOUR" ]; then reason="daily restart"; break; fi
  done
  log "restarting: ${reason}"
  stop_browser
  if [ "$MAX_STARTS" -gt 0 ] && [ "$starts" -ge "$MAX_STARTS" ]; then exit 0; fi
  sleep 1
done
