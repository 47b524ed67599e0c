// French and English, switched in the header and remembered in this browser.
import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import en from "./locales/en";
import fr from "./locales/fr";

const LANGUAGE_KEY = "agora.language";
export const LANGUAGES = ["fr", "en"] as const;

function initialLanguage(): string {
  const saved = localStorage.getItem(LANGUAGE_KEY);
  if (saved && (LANGUAGES as readonly string[]).includes(saved)) return saved;
  // The demo company is French: French unless the browser asks for English.
  return navigator.language.startsWith("en") ? "en" : "fr";
}

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, fr: { translation: fr } },
  lng: initialLanguage(),
  fallbackLng: "en",
  interpolation: { escapeValue: false },
  // Metric names such as "help:" contain colons, which are not namespaces here.
  nsSeparator: false,
});

i18n.on("languageChanged", (language) => {
  localStorage.setItem(LANGUAGE_KEY, language);
  document.documentElement.lang = language;
});
document.documentElement.lang = i18n.language;

export default i18n;
