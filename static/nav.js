// The header's menus (<details class="nav-menu">) work without this; it closes an open one when
// the reader clicks elsewhere or presses Escape, as a menu does.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.nav-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.open = false;
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.nav-menu[open]").forEach((menu) => {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});
