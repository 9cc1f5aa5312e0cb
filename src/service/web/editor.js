// Placeholder: the editor page is being built on its own branch.
triage.start('editor').then(() => {
  document.getElementById('main').append(triage.h('p', { class: 'muted' }, 'Deze pagina komt eraan.'));
});
