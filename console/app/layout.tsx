import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useSession } from './context.ts';
import { href } from './router.ts';

const SECTIONS: Array<[string, string]> = [
  ['overview', 'Overview'],
  ['servers', 'Servers'],
  ['calls', 'Tool calls'],
  ['events', 'Events'],
  ['templates', 'Templates'],
  ['access', 'Access'],
  ['system', 'System'],
];

type Theme = 'light' | 'dark';
const THEME_KEY = 'switchyard.console.theme';
/** Dispatched on window when the theme changes (charts redraw in its colours). */
export const THEME_EVENT = 'switchyard-theme';

export function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    dispatchEvent(new Event(THEME_EVENT));
  }, [theme]);
  const toggle = () =>
    setTheme((t) => {
      const next = t === 'dark' ? 'light' : 'dark';
      localStorage.setItem(THEME_KEY, next);
      return next;
    });
  return [theme, toggle];
}

export function ThemeToggle() {
  const [theme, toggle] = useTheme();
  return (
    <button type="button" class="ghost" onClick={toggle} aria-pressed={theme === 'dark'}>
      {theme === 'dark' ? 'Light theme' : 'Dark theme'}
    </button>
  );
}

/** The frame of every signed-in view: where you are, who you are, how to leave. */
export function Layout(props: { section: string; children: ComponentChildren }) {
  const { me, signOut } = useSession();
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a class="brand" href={href('overview')}>
          Switchyard
        </a>
        <nav aria-label="Console">
          {SECTIONS.map(([key, label]) => (
            <a
              key={key}
              class="nav-link"
              href={href(key)}
              aria-current={key === props.section ? 'page' : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
        <div class="who">
          <span title={`${me.kind} ${me.id} · tenant ${me.tenant}`}>
            {me.name} <span class="muted">({me.tenant})</span>
          </span>
          <ThemeToggle />
          <button type="button" class="ghost" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </div>
  );
}
