import { Component, type ReactNode } from 'react';

/** A panel that throws shows one line and a retry, never a blank page; the other panels live on. */
export class PanelBoundary extends Component<{ name: string; children: ReactNode }, { error: string | null }> {
  state = { error: null as string | null };
  static getDerivedStateFromError(e: unknown) {
    return { error: (e instanceof Error ? e.message : String(e)).split('\n')[0] };
  }
  render() {
    if (this.state.error) {
      return (
        <div className="state failed" role="alert">
          The {this.props.name} panel failed: <code>{this.state.error}</code>{' '}
          <button className="link" onClick={() => this.setState({ error: null })}>
            retry
          </button>
        </div>
      );
    }
    return this.props.children;
  }
}
