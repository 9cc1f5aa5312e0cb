// Placeholder: the reports page is being built on its own branch.
triage.start('reports').then(() => {
  document.getElementById('main').append(triage.h('p', { class: 'muted' }, 'Deze pagina komt eraan.'));
});
