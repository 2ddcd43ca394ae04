// Narrows a long list of choices (the concern report's roster) to the names or student numbers
// that contain what is typed. Without this script the search box stays hidden and the whole list
// is shown, so the form never depends on it.
document.querySelectorAll("input.picker-filter[data-filters]").forEach((box) => {
  const list = document.getElementById(box.dataset.filters);
  if (!list) {
    return;
  }
  box.hidden = false;
  box.addEventListener("input", () => {
    const wanted = box.value.trim().toLowerCase();
    list.querySelectorAll("li").forEach((item) => {
      item.hidden = wanted !== "" && !item.textContent.toLowerCase().includes(wanted);
    });
  });
});
