// Stand-in for sharp in the device bundle (transformers.js requires a truthy image library at load time):
// the lab never decodes images, and calling this says why it cannot.
export default function sharp() {
  throw new Error('image decoding is not part of the IFT Lab device bundle');
}
