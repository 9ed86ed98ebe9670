// Draws every chart of the page with the vendored Vega-Lite (no network): the spec is in the
// <script type="application/json"> named by the chart's data-spec attribute.
(function () {
  "use strict";
  var lang = document.documentElement.lang;
  // d3-format locales: decimal comma and narrow no-break space in French.
  var locales = {
    fr: {decimal: ",", thousands: "\u202f", grouping: [3], currency: ["", "\u00a0€"],
         percent: "\u202f%"},
    en: {decimal: ".", thousands: ",", grouping: [3], currency: ["£", ""]}
  };
  document.querySelectorAll(".chart[data-spec]").forEach(function (element) {
    var spec = JSON.parse(document.getElementById(element.dataset.spec).textContent);
    vegaEmbed(element, spec, {actions: false, renderer: "svg",
                              formatLocale: locales[lang] || locales.en})
      .catch(function (error) { element.textContent = String(error); });
  });
})();
