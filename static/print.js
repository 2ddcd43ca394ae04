// The recovery codes page's "Print" button: shown only where scripts run (else the browser's own
// print command does the same), and no inline handler, which the page's CSP forbids.
document.querySelectorAll("button[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
