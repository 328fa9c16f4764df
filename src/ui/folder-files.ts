/**
 * A Hugging Face-layout model folder picked on the page — by the directory picker, an
 * `<input webkitdirectory>`, or drag and drop — as the files the Worker reads by name (config.json,
 * tokenizer files, safetensors weights or shards). Only those files travel; the rest of the folder
 * (README, onnx/, .git) stays on disk. The Worker checks them exactly as it checks a Hub download.
 */
import type { FolderFiles } from '../worker/protocol';

/** A file the lab reads from a model folder (at its top level). */
export function isModelFile(name: string): boolean {
  return /^(config|generation_config|tokenizer|tokenizer_config)\.json$|^model(-\d+-of-\d+)?\.safetensors$|^model\.safetensors\.index\.json$/.test(name);
}

/** Files by their path inside the picked folder: those at its top level, under their bare names. */
export function folderFiles(files: Iterable<{ path: string; file: File }>): { name: string; files: FolderFiles } {
  const out: FolderFiles = {};
  let name = '';
  for (const { path, file } of files) {
    const parts = path.split('/').filter(Boolean);
    // webkitRelativePath and dropped entries start with the folder's own name.
    const inner = parts.length > 1 ? parts.slice(1) : parts;
    if (parts.length > 1) name ||= parts[0];
    if (inner.length === 1 && isModelFile(inner[0])) out[inner[0]] = file;
  }
  return { name: name || 'model', files: out };
}

/** `<input webkitdirectory>`'s files. */
export function fromInput(list: FileList): { name: string; files: FolderFiles } {
  return folderFiles([...list].map((file) => ({ path: file.webkitRelativePath || file.name, file })));
}

interface DirHandle {
  name: string;
  kind: 'directory';
  values(): AsyncIterable<{ kind: 'file' | 'directory'; name: string; getFile?(): Promise<File> }>;
}

/** The File System Access API's directory picker (Chromium); null where the browser has none. */
export function pickerAvailable(): boolean {
  return typeof window !== 'undefined' && 'showDirectoryPicker' in window;
}

export async function fromPicker(): Promise<{ name: string; files: FolderFiles } | null> {
  const pick = (window as unknown as { showDirectoryPicker(o?: object): Promise<DirHandle> }).showDirectoryPicker;
  let dir: DirHandle;
  try {
    dir = await pick.call(window, { mode: 'read' });
  } catch (e) {
    if ((e as Error).name === 'AbortError') return null;
    throw e;
  }
  const files: FolderFiles = {};
  for await (const h of dir.values()) if (h.kind === 'file' && isModelFile(h.name) && h.getFile) files[h.name] = await h.getFile();
  return { name: dir.name, files };
}

/** A folder dropped on the page (DataTransfer's entries API; a drop of loose files works too). */
export async function fromDrop(dt: DataTransfer): Promise<{ name: string; files: FolderFiles }> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => Boolean(e));
  const dir = entries.length === 1 && entries[0].isDirectory ? (entries[0] as FileSystemDirectoryEntry) : null;
  if (!dir) return folderFiles([...dt.files].map((file) => ({ path: file.name, file })));
  const children = await new Promise<FileSystemEntry[]>((resolve, reject) => {
    const reader = dir.createReader();
    const all: FileSystemEntry[] = [];
    // readEntries returns at most ~100 entries a call: read until it returns none.
    const next = () => reader.readEntries((batch) => (batch.length ? (all.push(...batch), next()) : resolve(all)), reject);
    next();
  });
  const files: FolderFiles = {};
  for (const c of children) {
    if (!c.isFile || !isModelFile(c.name)) continue;
    files[c.name] = await new Promise<File>((resolve, reject) => (c as FileSystemFileEntry).file(resolve, reject));
  }
  return { name: dir.name, files };
}
