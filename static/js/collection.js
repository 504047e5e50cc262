/* 信息采集 and 档案变更登记: progressive enhancement of forms that already work without it.
 *
 * - "添加一条" adds a row of education or qualifications at once, from the <template> the page carries
 *   (without this script the button saves the step and the page comes back with one more row).
 * - A form with data-draft-key keeps what is typed in this browser's localStorage, per user and form,
 *   until it is saved: a reload or a killed tab loses nothing. Never kept: files, passwords, hidden
 *   fields, anything named like an ID number. A page with data-draft-clear (the one shown after a
 *   successful save or submission) forgets the drafts it names. A draft found on load is put back and
 *   the person is told, with "放弃恢复" to go back to what the server has.
 *
 * No dependencies, no inline script or handlers (the Content-Security-Policy allows only 'self').
 */
(function () {
  "use strict";

  var PREFIX = "kjzx-draft:";
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000; // an older draft is dropped, not offered
  var SKIP_TYPES = { file: 1, password: 1, hidden: 1, submit: 1, button: 1, reset: 1, image: 1 };
  var SKIP_NAMES = /(^csrfmiddlewaretoken$|^pending$|^step$|id_number|password)/i;

  function storage() {
    try {
      var probe = PREFIX + "probe";
      window.localStorage.setItem(probe, "1");
      window.localStorage.removeItem(probe);
      return window.localStorage;
    } catch (e) {
      return null; // private mode or storage refused: the forms work as before
    }
  }

  // --- rows ---------------------------------------------------------------------------------------

  function management(form, section, name) {
    return form.querySelector("input[name='" + section + "-" + name + "']");
  }

  function addRow(form, section, focus) {
    var template = form.querySelector("template[data-row-template='" + section + "']");
    var rows = form.querySelector("[data-rows='" + section + "']");
    var total = management(form, section, "TOTAL_FORMS");
    var max = management(form, section, "MAX_NUM_FORMS");
    if (!template || !rows || !total) return null;
    var index = parseInt(total.value, 10) || 0;
    if (max && index >= (parseInt(max.value, 10) || 10)) return null;
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__number__/g, String(index + 1));
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    updateAddButtons(form);
    if (focus) {
      var first = row.querySelector("input, select, textarea");
      if (first) first.focus();
    }
    return row;
  }

  function removeRow(form, row) {
    var section = row.parentNode && row.parentNode.getAttribute("data-rows");
    var total = section && management(form, section, "TOTAL_FORMS");
    var field = row.querySelector("[name]");
    var index = field ? parseInt(field.name.split("-")[1], 10) : NaN;
    row.parentNode.removeChild(row);
    // Only the last row can give its number back; a gap is fine (an empty row is not saved).
    if (total && index === parseInt(total.value, 10) - 1) total.value = String(index);
    updateAddButtons(form);
  }

  function updateAddButtons(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-add-row]"), function (button) {
      var section = button.getAttribute("data-add-row");
      var total = management(form, section, "TOTAL_FORMS");
      var max = management(form, section, "MAX_NUM_FORMS");
      button.hidden = false; // shown even where it only works with this script (the change form)
      button.disabled = !!(total && max && parseInt(total.value, 10) >= parseInt(max.value, 10));
    });
  }

  function enhanceRows(form) {
    if (!form.querySelector("[data-add-row]")) return;
    updateAddButtons(form);
    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      if (add) {
        event.preventDefault();
        addRow(form, add.getAttribute("data-add-row"), true);
        form.dispatchEvent(new Event("input", { bubbles: true }));
        return;
      }
      var remove = event.target.closest("[data-remove-row]");
      if (remove) {
        event.preventDefault();
        removeRow(form, remove.closest("fieldset"));
        form.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  }

  // --- drafts kept in this browser ---------------------------------------------------------------

  function kept(element) {
    return element.name && !SKIP_TYPES[element.type] && !SKIP_NAMES.test(element.name) && !element.disabled;
  }

  function snapshot(form) {
    var fields = [];
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!kept(element)) return;
      if (element.type === "checkbox" || element.type === "radio") {
        fields.push([element.name, element.value, element.checked]);
      } else if (element.type === "select-multiple") {
        Array.prototype.forEach.call(element.options, function (option) {
          fields.push([element.name, option.value, option.selected]);
        });
      } else {
        fields.push([element.name, element.value]);
      }
    });
    var rows = {};
    Array.prototype.forEach.call(form.querySelectorAll("[data-rows]"), function (list) {
      var section = list.getAttribute("data-rows");
      var total = management(form, section, "TOTAL_FORMS");
      if (total) rows[section] = parseInt(total.value, 10) || 0;
    });
    return { fields: fields, rows: rows };
  }

  function apply(form, state) {
    var added = [];
    Object.keys(state.rows || {}).forEach(function (section) {
      var total = management(form, section, "TOTAL_FORMS");
      while (total && (parseInt(total.value, 10) || 0) < state.rows[section]) {
        var row = addRow(form, section, false);
        if (!row) break;
        added.push(row);
      }
    });
    (state.fields || []).forEach(function (entry) {
      var name = entry[0];
      Array.prototype.forEach.call(form.querySelectorAll("[name='" + name.replace(/'/g, "") + "']"), function (element) {
        if (!kept(element)) return;
        if (element.type === "checkbox" || element.type === "radio") {
          if (element.value === entry[1]) element.checked = !!entry[2];
        } else if (element.type === "select-multiple") {
          Array.prototype.forEach.call(element.options, function (option) {
            if (option.value === entry[1]) option.selected = !!entry[2];
          });
        } else {
          element.value = entry[1];
        }
      });
    });
    return added;
  }

  function same(a, b) {
    return JSON.stringify(a.fields) === JSON.stringify(b.fields) && JSON.stringify(a.rows) === JSON.stringify(b.rows);
  }

  function when(ms) {
    var d = new Date(ms);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  function notice(form, savedAt, onDiscard) {
    var box = document.createElement("div");
    box.className = "draft-restored";
    box.setAttribute("role", "status");
    var text = document.createElement("p");
    text.textContent = "已恢复您在本设备上于 " + when(savedAt) + " 填写但尚未保存的内容，请核对后保存。";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button secondary";
    button.textContent = "放弃恢复";
    button.addEventListener("click", function () {
      onDiscard();
      box.parentNode.removeChild(box);
    });
    box.appendChild(text);
    box.appendChild(button);
    form.insertBefore(box, form.firstChild);
  }

  function keepDrafts(form, store) {
    var key = PREFIX + form.getAttribute("data-draft-key");
    var server = snapshot(form);
    var raw = store.getItem(key);
    var found = null;
    try { found = raw ? JSON.parse(raw) : null; } catch (e) { found = null; }
    if (found && (!found.at || Date.now() - found.at > MAX_AGE_MS)) {
      store.removeItem(key);
      found = null;
    }
    if (found && !same(found, server)) {
      var added = apply(form, found);
      notice(form, found.at, function () {
        store.removeItem(key);
        added.forEach(function (row) { removeRow(form, row); });
        apply(form, server);
      });
    }
    var timer = null;
    function save() {
      timer = null;
      var state = snapshot(form);
      if (same(state, server)) {
        store.removeItem(key); // nothing typed beyond what is saved
        return;
      }
      state.at = Date.now();
      try { store.setItem(key, JSON.stringify(state)); } catch (e) { /* full: the form still works */ }
    }
    function later() {
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(save, 300);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    window.addEventListener("pagehide", function () { if (timer) { window.clearTimeout(timer); save(); } });
  }

  function forgetSaved(store) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-draft-clear]"), function (element) {
      var prefix = PREFIX + element.getAttribute("data-draft-clear");
      for (var i = store.length - 1; i >= 0; i--) {
        var key = store.key(i);
        if (key && key.indexOf(prefix) === 0) store.removeItem(key);
      }
    });
    if (window.history && window.history.replaceState && /[?&]saved=/.test(window.location.search)) {
      // A reload of this page must not forget what is typed after the save.
      var query = window.location.search.replace(/([?&])saved=[^&]*&?/, "$1").replace(/[?&]$/, "");
      window.history.replaceState(window.history.state, "", window.location.pathname + query + window.location.hash);
    }
  }

  function start() {
    var store = storage();
    if (store) forgetSaved(store);
    Array.prototype.forEach.call(document.querySelectorAll("form.records-form"), function (form) {
      enhanceRows(form);
      if (store && form.hasAttribute("data-draft-key")) keepDrafts(form, store);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
