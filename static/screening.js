// A questionnaire page with a safety item holds the crisis resources hidden (the box marked
// data-crisis-live). Choosing an answer the instrument counts as a safety answer (listed by the
// server in its question's data-safety-values) shows them at once; choosing otherwise again hides
// them. Without this script the page works as before: the resources show after saving or submitting.
function showCrisisResources() {
  const box = document.querySelector("[data-crisis-live]");
  if (!box) return;
  const fieldsets = document.querySelectorAll("fieldset[data-safety-values]");
  box.hidden = !Array.from(fieldsets).some((fieldset) => {
    const checked = fieldset.querySelector("input[type=radio]:checked");
    return checked !== null && fieldset.dataset.safetyValues.split(" ").includes(checked.value);
  });
}
document.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement && event.target.type === "radio") {
    showCrisisResources();
  }
});
showCrisisResources();
