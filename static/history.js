// A page that answers a sent form (its errors shown, status 422) stands in the browser's history
// as a POST: Back or reload to it asks to send the form again (确认重新提交表单). The entry becomes
// the page's own address (campus.redirects.page_of_refused_form). A form that names no address of
// its own posts to the entry's: it is pinned to where it posted before the entry changes.
const address = document.getElementById("page-address");
if (address && window.history.replaceState) {
  document.querySelectorAll("form:not([action])").forEach((form) => {
    if (form.method.toLowerCase() === "post") {
      form.setAttribute("action", window.location.href);
    }
  });
  window.history.replaceState(null, "", address.dataset.address);
}
