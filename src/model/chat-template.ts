import { Template } from '@huggingface/jinja';
import { ByteLruCache } from './byte-lru.js';
import { ModelFolderError } from './errors.js';

/** A content part of a chat message: an image placeholder or a piece of text. */
export type ChatContentPart = { readonly type: 'image' } | { readonly type: 'text'; readonly text: string };

/** One chat message, as HF chat templates expect it. */
export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant';
  readonly content: string | readonly ChatContentPart[];
}

/** The question of one prompt: images first (in order), then the text, as Actial asks. */
export interface QuestionPrompt {
  /** System prompt; empty or absent: none (the template may insert its own default). */
  readonly system?: string;
  readonly imageCount: number;
  readonly question: string;
}

/** Budget of the rendered questions kept (the node asks the same questions again and again). */
const RENDERED_CACHE_BYTES = 512 * 1024;

/** The model's own chat template (Jinja, rendered by @huggingface/jinja). */
export class ChatTemplate {
  readonly #template: Template;
  readonly #specialTokens: Readonly<Record<string, string>>;
  readonly #rendered = new ByteLruCache<string>(RENDERED_CACHE_BYTES, (text) => 2 * text.length);

  /**
   * @param source Jinja source of the template.
   * @param specialTokens Variables such as `bos_token`/`eos_token` that templates may reference.
   * @param file Where the template came from, for the error message if it does not parse.
   */
  constructor(source: string, specialTokens: Readonly<Record<string, string>> = {}, file = 'chat template') {
    try {
      this.#template = new Template(source);
    } catch (error) {
      throw new ModelFolderError(file, `chat template does not parse: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.#specialTokens = specialTokens;
  }

  /** The prompt text for `messages`, ending with the assistant header when `addGenerationPrompt` (default). */
  render(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    return this.#template.render({
      ...this.#specialTokens,
      messages,
      add_generation_prompt: addGenerationPrompt,
    });
  }

  /** Renders a question over images: optional system message, then one user message (images, text). */
  renderQuestion(prompt: QuestionPrompt): string {
    const key = JSON.stringify([prompt.system ?? '', prompt.imageCount, prompt.question]);
    let text = this.#rendered.get(key);
    if (text === undefined) {
      text = this.render(questionMessages(prompt));
      this.#rendered.set(key, text);
    }
    return text;
  }
}

/** The messages of a question over images: optional system message, then images and text from the user. */
export function questionMessages({ system, imageCount, question }: QuestionPrompt): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (system) messages.push({ role: 'system', content: system });
  const content: ChatContentPart[] = Array.from({ length: imageCount }, () => ({ type: 'image' as const }));
  content.push({ type: 'text', text: question });
  messages.push({ role: 'user', content });
  return messages;
}
