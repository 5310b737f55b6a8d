// Citizen-budget ballot: the running total while the voter chooses. The page works without
// this script (the server shows the total after each submit); the messages come translated
// from the page's data-msg-* attributes, with {placeholders} filled in here.
(function () {
  "use strict";
  var form = document.querySelector("form[data-ballot]");
  if (!form) { return; }
  var out = form.querySelector("[data-running-total]");
  if (!out) { return; }
  var data = form.dataset;
  var style = data.style;
  var budget = Number(data.budget || 0);
  var pointsTotal = Number(data.pointsTotal || 0);
  var locale = data.locale === "en" ? "en-GB" : "da-DK";
  var numbers = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });

  function money(n) { return numbers.format(n) + "\u00a0" + data.currency; }

  function fill(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function update() {
    var count = 0, spent = 0, given = 0;
    form.querySelectorAll("input[name=idea]").forEach(function (box) {
      if (box.checked) { count += 1; spent += Number(box.dataset.cost || 0); }
      var option = box.closest(".ballot-option");
      if (option) { option.classList.toggle("chosen", box.checked); }
    });
    form.querySelectorAll("input[data-points]").forEach(function (input) {
      var value = parseInt(input.value, 10);
      var on = value > 0;
      if (on) { given += value; count += 1; }
      var option = input.closest(".ballot-option");
      if (option) { option.classList.toggle("chosen", on); }
    });
    var over = false, text;
    var d = out.dataset;
    if (style === "approval_budget") {
      over = spent > budget;
      text = over
        ? fill(d.msgOver, { count: count, spent: money(spent), over: money(spent - budget), budget: money(budget) })
        : fill(d.msgBudget, { count: count, spent: money(spent), budget: money(budget), left: money(budget - spent) });
    } else if (style === "approval_range") {
      text = fill(d.msgRange, { count: count, lo: data.min, hi: data.max });
    } else {
      over = given > pointsTotal;
      text = over
        ? fill(d.msgPointsOver, { given: given, total: pointsTotal, over: given - pointsTotal })
        : fill(d.msgPoints, { given: given, total: pointsTotal, left: pointsTotal - given });
    }
    if (out.textContent !== text) { out.textContent = text; }
    out.classList.toggle("over", over);
  }

  // With the total kept up to date here, the "update the total" button is not needed.
  form.querySelectorAll("[data-no-js-only]").forEach(function (button) { button.hidden = true; });
  form.addEventListener("change", update);
  form.addEventListener("input", update);
})();
