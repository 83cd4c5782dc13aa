import './calls.css';

export { CallDetail } from './calls/detail.tsx';
export { ToolCalls } from './calls/list.tsx';
