// The print button of the activation slips: opens the browser's print dialog (A4, see app.css).
document.querySelectorAll("#print-slips").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
