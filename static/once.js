// A form marked data-once is sent once from this page: a double click sends the second request
// nowhere. For the activation slips this matters: the codes are shown only in the answer to the
// first request, and a second one would replace that page with "already issued". The buttons are
// not disabled, so the one that was pressed still sends its name.
document.querySelectorAll("form[data-once]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  });
});
