/* 实名注册: a resident ID number carries the birth date and the sex (R-COL-3), so for that
 * document the two fields are hidden and what the number says is shown instead. Without this script
 * both stay on the page, optional for a resident ID; either way the server reads them from the number
 * (accounts.services) and is the judge. No inline script or handlers (Content-Security-Policy). */
(function () {
  "use strict";

  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function parse(raw) {
    var number = (raw || "").replace(/\s+/g, "").toUpperCase();
    if (!/^\d{17}[\dX]$/.test(number)) return null;
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += parseInt(number.charAt(i), 10) * WEIGHTS[i];
    if (CHECK.charAt(sum % 11) !== number.charAt(17)) return null;
    var y = number.substr(6, 4), m = number.substr(10, 2), d = number.substr(12, 2);
    var day = new Date(Date.UTC(+y, +m - 1, +d));
    if (day.getUTCFullYear() !== +y || day.getUTCMonth() !== +m - 1 || day.getUTCDate() !== +d) return null;
    return { birth: y + "-" + m + "-" + d, sex: parseInt(number.charAt(16), 10) % 2 ? "男" : "女" };
  }

  function start() {
    var form = document.querySelector("form[data-derive-from-id]");
    if (!form) return;
    var type = form.querySelector("[name='id_type']");
    var number = form.querySelector("[name='id_number']");
    var sex = form.querySelector("[data-field='sex']");
    var birth = form.querySelector("[data-field='birth_date']");
    var said = form.querySelector("#derived-from-id");
    if (!type || !number || !sex || !birth || !said) return;

    function update() {
      var resident = type.value === "resident_id";
      [sex, birth].forEach(function (field) {
        // A field the server found wrong stays, so its message can be read and mended.
        var hide = resident && !field.classList.contains("has-error");
        if (hide && !field.hidden) {
          Array.prototype.forEach.call(field.querySelectorAll("input"), function (input) {
            if (input.type === "radio") input.checked = false; else input.value = "";
          });
        }
        field.hidden = hide;
      });
      var parsed = resident ? parse(number.value) : null;
      said.hidden = !resident;
      said.textContent = !resident ? "" : parsed
        ? "性别、出生日期按身份证号码自动填写：" + parsed.sex + "，" + parsed.birth + "。"
        : "性别、出生日期将按身份证号码自动填写，无需输入。";
    }
    type.addEventListener("change", update);
    number.addEventListener("input", update);
    update();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
