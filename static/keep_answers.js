// A questionnaire page's links within the site (the header's menu, the brand, the account name)
// keep what she ticked: tapped with an answer ticked, a link sends the page's form as "Save and
// continue later" with the link's address as `next`, and the server opens that page once the draft
// is saved (screening.views._saved checks `next` is a page of this site; a safety answer among the
// ticks leads to the crisis resources instead, as saving does). A link opened in another tab or
// window, a place on this page (#q3) and a phone number leave the page as it is. Without this
// script the links are plain links, as before.
const answers = document.getElementById("answers");
const saveButton = answers && answers.querySelector("button[name=action][value=save]");
if (answers && saveButton) {
  const next = document.createElement("input");
  next.type = "hidden";
  next.name = "next";
  answers.appendChild(next);
  let sending = false;
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (link === null || link.hasAttribute("download")) return;
    if (link.target && link.target !== "_self") return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    const here = url.pathname === window.location.pathname && url.search === window.location.search;
    if (here && url.hash) return;
    if (answers.querySelector("input[type=radio]:checked") === null) return;
    event.preventDefault();
    if (sending) return;
    sending = true;
    next.value = url.pathname + url.search + url.hash;
    saveButton.click();
  });
  // Come back to with the browser's Back (the page kept in memory): its buttons save and submit
  // as usual again, and a link tapped then saves afresh.
  window.addEventListener("pageshow", () => {
    sending = false;
    next.value = "";
  });
}
