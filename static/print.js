// The printable summary's Print button: one tap on a tablet, where no Ctrl+P exists.
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (button && window.print) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }
}());
