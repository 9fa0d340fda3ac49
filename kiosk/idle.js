// Idle timeout with a visible, announced countdown. Any touch, click or key restarts the
// timer; in the last `warnSeconds` a dialog counts down (announced to screen readers when
// it opens and at 10 and 5 seconds, not every second) and then `onTimeout` runs.
export function idleTimer({ totalSeconds, warnSeconds, dialog, onTimeout, format, announce }) {
  let deadline = 0;
  let tick = null;
  let running = false;
  const counter = dialog.querySelector("[data-countdown]");
  const live = dialog.querySelector("[data-announce]");

  const close = () => {
    if (dialog.open) dialog.close();
  };
  const remaining = () => Math.max(0, Math.ceil((deadline - Date.now()) / 1000));

  function step() {
    const left = remaining();
    if (left <= 0) {
      stop();
      onTimeout();
      return;
    }
    if (left <= warnSeconds) {
      counter.textContent = format(left);
      if (!dialog.open) {
        dialog.showModal();
        live.textContent = announce(left);
      } else if (left === 10 || left === 5) {
        live.textContent = announce(left);
      }
    }
  }

  function reset() {
    if (!running) return;
    deadline = Date.now() + totalSeconds * 1000;
    close();
  }

  function start() {
    running = true;
    deadline = Date.now() + totalSeconds * 1000;
    clearInterval(tick);
    tick = setInterval(step, 250);
  }

  function stop() {
    running = false;
    clearInterval(tick);
    close();
  }

  for (const type of ["pointerdown", "keydown", "touchstart"]) {
    document.addEventListener(type, (event) => {
      if (dialog.open && dialog.contains(event.target)) return; // the dialog's own buttons decide
      reset();
    }, { capture: true, passive: true });
  }
  dialog.addEventListener("cancel", (event) => event.preventDefault()); // Esc does not silently dismiss
  return { start, stop, reset, get running() { return running; } };
}
