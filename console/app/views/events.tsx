import './events.css';

export { Events } from './events/page.tsx';
