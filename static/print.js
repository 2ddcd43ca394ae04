// Print buttons (the activation slips, the recovery codes): shown only where scripts run (else the
// browser's own print command does the same), and no inline handler, which the pages' CSP forbids.
document.querySelectorAll("#print-slips, button[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
