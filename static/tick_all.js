// A box marked data-tick-all="NAME" ticks or clears every box named NAME on the page: the director
// sharing out a page of reds ticks them at once. Without scripts each box is ticked on its own.
document.querySelectorAll("input[data-tick-all]").forEach((all) => {
  const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${all.dataset.tickAll}"]`);
  all.addEventListener("change", () => boxes().forEach((box) => { box.checked = all.checked; }));
});
