// Every export of the packages a browser may use, kept whole: the test scans its bundle for Node's globals,
// so what the page's run does not reach is checked too.
export * as core from '@podnet/core';
export * as cni from '@podnet/cni';
export * as cli from '@podnet/cli';
export * as testing from '@podnet/testing';
