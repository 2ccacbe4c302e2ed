// The synced traits each widget's front end reads: the Python side defines them
// (search_task_widget/_views/widget.py, list_widget.py, base.py); these types say what the
// JavaScript may expect, and tests/test_vocabulary.py checks that they name the same traits.
// Values come from the kernel, so the modules still clean them up.
import type { AnyModel } from "@anywidget/types";

/** The sign-in panel's traits, which every widget has (js/signin.js). */
export type SignInTraits = {
  sign_in: string;
  sign_in_url: string;
  sign_in_message: string;
}

/** The bell (js/notify.js), in both task widgets: tell of the end in a notification. */
export type NotifyTraits = {
  notify: boolean;
}

/** A task as both widgets show it: the Task document's fields (as the service wrote them,
 * "" for the state before the first answer), and what keeps it from being checked. */
export type TaskFields = {
  task_id: string;
  state: string;
  state_description: string;
  task_type: string | null;
  message: string | null;
  additional_details: unknown;
  creation_date: string;
  completion_date: string | null;
  error: string;
  trouble: string;
}

/** TaskWidget's own traits (js/widget.js; TASK_TRAITS in js/vocabulary.js lists them). */
export type TaskOwnTraits = TaskFields & {
  index_id: string;
  polling: boolean;
  stage_times: Record<string, number>;
  last_checked: number;
  next_check: number;
  poll_interval: number;
  retried: string;
}

/** TaskWidget (js/widget.js). */
export type TaskTraits = SignInTraits & NotifyTraits & TaskOwnTraits;

/** One row of TaskListWidget, as synced (js/list.js cleans it into a `Row`). */
export type RawRow = {
  task_id?: unknown;
  state?: unknown;
  state_description?: unknown;
  task_type?: unknown;
  message?: unknown;
  additional_details?: unknown;
  creation_date?: unknown;
  completion_date?: unknown;
  error?: unknown;
  trouble?: unknown;
  retried?: unknown;
  started?: unknown;
}

/** TaskListWidget's own traits (js/list.js; LIST_TRAITS in js/vocabulary.js lists them). */
export type ListOwnTraits = {
  rows: RawRow[];
  total: number;
  done: number;
  failed: number;
  polling: boolean;
  first_submitted: string | null;
  last_completed: string | null;
  error: string;
  last_checked: number;
}

/** TaskListWidget (js/list.js). */
export type ListTraits = SignInTraits & NotifyTraits & ListOwnTraits;

/** SignInWidget (js/signin_widget.js). */
export type SignInWidgetTraits = SignInTraits & {
  source: string;
}

/** One list row, cleaned up. */
export type Row = TaskFields & {
  /** When the list first saw the task running (epoch ms), for the timeline. */
  started: number | null;
  /** Checks that failed and went through again: how many, over how long, why ("" if none). */
  retried: string;
}

/** The part of a model every view uses: read, listen, send custom messages. */
export type Model<T extends Record<string, any>> = Pick<AnyModel<T>, "get" | "on" | "off"> & {
  send?: AnyModel["send"];
};

declare global {
  /** js/loader.js: each shared front end's module, imported once per page. */
  var searchTaskWidgetModules: Map<string, Promise<{ render: Function }>> | undefined;
}
