/**
 * The chat format for base models whose tokenizer_config.json ships no chat_template (SmolLM2-135M,
 * Qwen2.5-0.5B, Llama-3.2-1B base): Vicuna v1.1's, the format the paper fine-tuned with. Written out in
 * TypeScript rather than as a Jinja string so it needs no template engine and cannot drift:
 *   "<system> USER: <q> ASSISTANT: <a><eos>USER: …"
 * with a generation prompt ending in "ASSISTANT:". The assistant turn ends with the tokenizer's own EOS
 * text, so training teaches the model to stop where generation stops.
 */
import type { ChatMessage } from '../lab/model';

/** How a model's chat prompts are rendered: its own template, or the lab's Vicuna fallback. */
export type ChatTemplateSource = 'model' | 'vicuna-fallback';

export const VICUNA_SYSTEM =
  "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.";

export function vicunaChat(messages: readonly ChatMessage[], eosText: string, o: { addGenerationPrompt?: boolean } = {}): string {
  const system = messages.find((m) => m.role === 'system')?.content ?? VICUNA_SYSTEM;
  let out = system;
  for (const m of messages) {
    if (m.role === 'user') out += ` USER: ${m.content}`;
    else if (m.role === 'assistant') out += ` ASSISTANT: ${m.content}${eosText}`;
  }
  if (o.addGenerationPrompt) out += ' ASSISTANT:';
  return out;
}
