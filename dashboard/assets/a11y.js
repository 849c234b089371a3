/* Keyboard and screen-reader repairs for Dash's own components (loaded on every Dash page).

   dcc.Dropdown (Dash 4) puts Tab focus on a hidden input (aria-hidden, for Safari) that
   hands it on to the real button; assistive technology is told that the focused element
   does not exist (axe: aria-hidden-focus). Here the button itself takes Tab focus and the
   hidden input leaves the Tab order; Dash's own handlers keep working (Enter, Space and
   Arrow Down open the list on the button). A MutationObserver keeps the fix when Dash
   re-renders the dropdown or resets the input's tabindex on blur. */
(function () {
  'use strict';

  function repair(root) {
    root.querySelectorAll('.dash-dropdown-focus-target').forEach(function (dummy) {
      if (dummy.tabIndex !== -1) { dummy.tabIndex = -1; }
      var button = dummy.nextElementSibling;
      if (button && button.tagName === 'BUTTON' && !button.disabled && button.tabIndex !== 0) {
        button.tabIndex = 0;
      }
    });
  }

  function start() {
    repair(document);
    new MutationObserver(function () { repair(document); }).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ['tabindex']
    });
  }

  /* AG Grid (the sensors table) keeps Tab among its header cells and then leaves the grid,
     so no link in its rows is ever reached. Tab from the header goes to the first row's
     link, from link to link in row order, and after the last one on to the page; Shift+Tab
     walks back the same way. Grids without links keep AG Grid's own handling. */
  var TABBABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]),' +
    ' select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

  function rowIndex(link) {
    var row = link.closest('.ag-row');
    return row ? Number(row.getAttribute('row-index')) : 0;
  }

  function gridLinks(grid) {
    return Array.prototype.slice.call(grid.querySelectorAll('.ag-cell a[href]'))
      .sort(function (a, b) { return rowIndex(a) - rowIndex(b); });
  }

  function outside(grid, forward) {
    var all = Array.prototype.slice.call(document.querySelectorAll(TABBABLE))
      .filter(function (e) { return e.offsetParent !== null && !grid.contains(e); });
    var before = all.filter(function (e) {
      return grid.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_PRECEDING;
    });
    return forward ? all[before.length] : before[before.length - 1];
  }

  function onTab(event) {
    // Enter on a link in a row follows the link; AG Grid would take the key for itself.
    if (event.key === 'Enter' && document.activeElement &&
        document.activeElement.matches('.ag-cell a[href]')) {
      event.stopPropagation();
      return;
    }
    if (event.key !== 'Tab' || event.altKey || event.ctrlKey || event.metaKey) { return; }
    var here = document.activeElement;
    var grid = here && here.closest && here.closest('.ag-root-wrapper');
    if (!grid) { return; }
    var links = gridLinks(grid);
    if (!links.length) { return; }
    var forward = !event.shiftKey;
    var target = null;
    var at = links.indexOf(here);
    if (at >= 0) {
      target = links[at + (forward ? 1 : -1)] ||
        (forward ? outside(grid, true) : grid.querySelector('.ag-header-cell'));
    } else if (here.closest('.ag-header') && forward) {
      target = links[0];
    } else {
      return;
    }
    if (target) {
      event.preventDefault();
      event.stopPropagation();
      target.focus();
    }
  }

  document.addEventListener('keydown', onTab, true);

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
