// A page that answers a sent form with its errors opens at its top, while the refused form may be
// far below it (a referral's next steps, ~1200 px down): nothing seemed to happen. Its first error
// is brought into view and focus goes to the first field marked invalid (aria-invalid, or a field
// drawn with .has-error), else to the error itself, so a screen reader reads it too. A page that
// already put the focus somewhere (an error summary with autofocus) is left alone. Loaded only on
// a page answering a POST (templates/base.html); without scripts the page is as it was.
const ERRORS = [
  ".error-summary",
  "[aria-invalid='true']",
  ".has-error",
  "p.error[role='alert']",
  ".flash.error[role='alert']",
].join(", ");
const CONTROLS = "input:not([type='hidden']):not([disabled]), select:not([disabled]), textarea:not([disabled])";

function firstError() {
  for (const found of document.querySelectorAll(ERRORS)) {
    if (found.closest("[hidden]") === null && found.getClientRects().length > 0) {
      return found;
    }
  }
  return null;
}

function focusable(error) {
  if (error.classList.contains("error-summary")) {
    return error;
  }
  if (error.matches(CONTROLS)) {
    return error;
  }
  const field = error.closest(".has-error") || (error.classList.contains("has-error") ? error : null);
  const control = field && field.querySelector(CONTROLS);
  if (control) {
    return control;
  }
  // A refusal of the whole form (above its fields): the message itself is read and shown.
  if (!error.hasAttribute("tabindex")) {
    error.setAttribute("tabindex", "-1");
  }
  return error;
}

function showFirstError() {
  if (document.activeElement && document.activeElement !== document.body) {
    return;
  }
  const error = firstError();
  if (error === null) {
    return;
  }
  const target = focusable(error);
  // The refused form whole in the middle of the screen when it fits, else its field with the
  // label and message, not the field alone at the screen's bottom edge.
  const around = [error.closest("form"), error.closest(".has-error, .error-summary"), error];
  const shown = around.find(
    (box) => box !== null && box.getBoundingClientRect().height < window.innerHeight * 0.8,
  );
  (shown || error).scrollIntoView({ block: "center" });
  target.focus({ preventScroll: true });
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", showFirstError);
} else {
  showFirstError();
}
