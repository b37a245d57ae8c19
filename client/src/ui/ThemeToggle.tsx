import { useEffect, useId, useMemo, useState } from 'react'
import { browserStore } from '../storage.ts'
import { Popover } from './Popover.tsx'
import { THEME_CHOICES, THEME_KEY, applyTheme, readTheme, saveTheme, type ThemeChoice } from './theme.ts'

const LABELS: Record<ThemeChoice, string> = { system: 'System', light: 'Light', dark: 'Dark' }

/** System / Light / Dark (SPEC R63), remembered on this device and followed by its other tabs. */
export function ThemeToggle() {
  const store = useMemo(browserStore, [])
  const [choice, setChoice] = useState(() => readTheme(store))
  const name = useId()

  useEffect(() => {
    const onStorage = (event: StorageEvent): void => {
      if (event.key !== THEME_KEY) return
      const next = readTheme(store)
      applyTheme(next, document.documentElement)
      setChoice(next)
    }
    window.addEventListener('storage', onStorage)
    return () => window.removeEventListener('storage', onStorage)
  }, [store])

  return (
    <Popover
      button={<ThemeIcon choice={choice} />}
      buttonLabel={`Theme: ${LABELS[choice]}`}
      buttonTitle="Theme"
      buttonClassName="button button-small button-icon"
      buttonTestId="theme-toggle"
      panelLabel="Theme"
      panelTestId="theme-menu"
    >
      <fieldset className="theme-choices">
        <legend>Theme</legend>
        {THEME_CHOICES.map((option) => (
          <label key={option} className="theme-choice">
            <input
              type="radio"
              name={name}
              value={option}
              checked={choice === option}
              onChange={() => {
                saveTheme(store, option, document.documentElement)
                setChoice(option)
              }}
            />
            {LABELS[option]}
          </label>
        ))}
      </fieldset>
    </Popover>
  )
}

function ThemeIcon({ choice }: { choice: ThemeChoice }) {
  const common = {
    viewBox: '0 0 24 24',
    fill: 'none',
    stroke: 'currentColor',
    strokeWidth: 2,
    strokeLinecap: 'round',
    strokeLinejoin: 'round',
    'aria-hidden': true,
  } as const
  switch (choice) {
    case 'light':
      return (
        <svg {...common}>
          <circle cx="12" cy="12" r="4" />
          <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
        </svg>
      )
    case 'dark':
      return (
        <svg {...common}>
          <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />
        </svg>
      )
    case 'system':
      return (
        <svg {...common}>
          <rect x="3" y="4" width="18" height="12" rx="2" />
          <path d="M8 20h8M12 16v4" />
        </svg>
      )
  }
}
